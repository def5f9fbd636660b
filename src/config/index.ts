/**
 * Public entry of the configuration module: load and validate the YAML file, resolve secrets.
 * See docs/configuration.md for every option and its default.
 */
export { loadConfig, parseConfig, type ParseOptions } from './load.js';
export { ConfigError, formatIssues, formatPath } from './problems.js';
export { type Config, type ConfigInput, configSchema, isLoopbackHost } from './schema.js';
export { JwtAlgorithms } from './schema-identity.js';
export {
  assertSecrets,
  checkSecrets,
  secretSource,
  secretSpecs,
  type SecretSpec,
} from './secrets.js';
export { parseBytes, parseDuration } from './units.js';
