/**
 * Secrets never sit in the YAML file: an option names an environment variable (`*_env`) or a file
 * (`*_file`) and this module reads it. A file is read again when it changes, so a secret manager
 * can rotate the upstream password without a restart. No message here ever contains a secret.
 */
import { accessSync, constants, readFileSync, statSync } from 'node:fs';
import { PgwardenError } from '../errors.js';
import { ConfigError } from './problems.js';
import type { Config } from './schema.js';

/** Where one secret comes from. `name` is how messages refer to it (`upstream.password`). */
export interface SecretSpec {
  name: string;
  env?: string | undefined;
  file?: string | undefined;
}

/**
 * Returns a function that yields the secret's current value. An environment variable is read at
 * each call (cheap); a file is read again only when its size, inode or modification time changed.
 * The function throws `ERR_CONFIG_SECRET` when the secret is missing or empty.
 */
export function secretSource(spec: SecretSpec, env: NodeJS.ProcessEnv = process.env): () => string {
  if ((spec.env === undefined) === (spec.file === undefined)) {
    throw new TypeError(`secretSource(${spec.name}): give exactly one of env and file`);
  }
  if (spec.env !== undefined) {
    const variable = spec.env;
    return () => {
      const value = env[variable];
      if (value === undefined || value === '') {
        throw secretError(spec.name, `environment variable ${variable} is not set or empty`);
      }
      return value;
    };
  }

  const file = spec.file as string;
  let cached: { stamp: string; value: string } | undefined;
  return () => {
    let stamp: string;
    try {
      const st = statSync(file);
      stamp = `${st.ino}:${st.size}:${st.mtimeMs}`;
    } catch (err) {
      throw secretError(spec.name, `cannot read ${file} (${errCode(err)})`, err);
    }
    if (cached?.stamp === stamp) return cached.value;
    let value: string;
    try {
      // Editors and `echo` add a final newline that is not part of the secret.
      value = readFileSync(file, 'utf8').replace(/\r?\n$/, '');
    } catch (err) {
      throw secretError(spec.name, `cannot read ${file} (${errCode(err)})`, err);
    }
    if (value === '') throw secretError(spec.name, `${file} is empty`);
    cached = { stamp, value };
    return value;
  };
}

/** Every secret the configuration refers to, each named by the option that names it. */
export function secretSpecs(config: Config): SecretSpec[] {
  const specs: SecretSpec[] = [];
  const add = (name: string, env: string | undefined, file: string | undefined): void => {
    if (env !== undefined || file !== undefined) specs.push({ name, env, file });
  };
  const u = config.upstream;
  add('upstream.password', u.password_env, u.password_file);
  config.identity.issuers.forEach((issuer, i) =>
    add(`identity.issuers[${i}].hs256_secret`, issuer.hs256_secret_env, issuer.hs256_secret_file),
  );
  for (const key of ['bundle', 'shadow'] as const) {
    const source = config.policy[key];
    if (source)
      add(`policy.${key}.bearer_token`, source.bearer_token_env, source.bearer_token_file);
  }
  add('masking.hmac_key', config.masking.hmac_key_env, config.masking.hmac_key_file);
  add('audit.dsn', config.audit.dsn_env, config.audit.dsn_file);
  config.audit.forward.forEach((target, i) =>
    add(`audit.forward[${i}].bearer_token`, target.bearer_token_env, undefined),
  );
  add('approvals.dsn', config.approvals.dsn_env, config.approvals.dsn_file);
  return specs;
}

/**
 * Key and certificate files the configuration names, which must exist and be readable. The audit
 * signing key is not among them: it is created at first start when missing.
 */
function keyFiles(config: Config): Array<[string, string]> {
  const files: Array<[string, string | undefined]> = [
    ['listen.tls.cert_file', config.listen.tls?.cert_file],
    ['listen.tls.key_file', config.listen.tls?.key_file],
    ['http.tls.cert_file', config.http.tls?.cert_file],
    ['http.tls.key_file', config.http.tls?.key_file],
    ['upstream.tls.ca_file', config.upstream.tls.ca_file],
    ['policy.signing.key_file', config.policy.signing.key_file],
    ...config.identity.saml.map((p, i): [string, string] => [
      `identity.saml[${i}].cert_file`,
      p.cert_file,
    ]),
  ];
  return files.filter((entry): entry is [string, string] => entry[1] !== undefined);
}

/**
 * Checks that every secret can be read and every key file exists, and returns one line per
 * problem (empty when all is well). Values are read and dropped; nothing is kept or printed.
 */
export function checkSecrets(config: Config, env: NodeJS.ProcessEnv = process.env): string[] {
  const problems: string[] = [];
  for (const spec of secretSpecs(config)) {
    try {
      secretSource(spec, env)();
    } catch (err) {
      problems.push(err instanceof PgwardenError ? err.message : `${spec.name}: unreadable`);
    }
  }
  for (const [name, file] of keyFiles(config)) {
    try {
      accessSync(file, constants.R_OK);
    } catch (err) {
      problems.push(`${name}: cannot read ${file} (${errCode(err)})`);
    }
  }
  return problems;
}

/** Throws a {@link ConfigError} (`ERR_CONFIG_SECRET`) listing every unreadable secret. */
export function assertSecrets(
  config: Config,
  source: string,
  env: NodeJS.ProcessEnv = process.env,
): void {
  const problems = checkSecrets(config, env);
  if (problems.length > 0) throw new ConfigError(source, problems, 'ERR_CONFIG_SECRET');
}

function secretError(name: string, reason: string, cause?: unknown): PgwardenError {
  return new PgwardenError('ERR_CONFIG_SECRET', `${name}: ${reason}`, { cause });
}

function errCode(err: unknown): string {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOENT' ? 'no such file' : (code ?? 'unreadable');
}
