import type { Command } from 'commander';
import { assertSecrets, loadConfig } from '../../config/index.js';
import { NotSupportedError } from '../../errors.js';

/** Options of `pgwarden serve`. */
interface ServeOptions {
  config: string;
  check?: boolean;
}

/**
 * Adds `pgwarden serve`. It loads and validates the configuration file and its secrets, so a bad
 * file stops start-up with every problem listed; `--check` stops there. Starting the gateway
 * itself is wired in when the gateway module lands; until then it refuses with ERR_NOT_SUPPORTED.
 */
export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('run the gateway with a configuration file')
    .requiredOption('-c, --config <file>', 'configuration file (YAML), see docs/configuration.md')
    .option('--check', 'validate the configuration and its secrets, then exit')
    .action((options: ServeOptions, command: Command) => {
      const config = loadConfig(options.config);
      assertSecrets(config, options.config);
      if (options.check) {
        command.configureOutput().writeOut?.(`${options.config}: configuration is valid\n`);
        return;
      }
      throw new NotSupportedError(
        `pgwarden serve: the configuration is valid, but the gateway is not built yet`,
      );
    });
}
