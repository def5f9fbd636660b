import type { Command } from 'commander';
import { assertSecrets, loadConfig } from '../../config/index.js';
import { createLogger } from '../../logger.js';
import { startPgwarden } from '../app.js';
import { untilSignal } from '../signals.js';

/** Options of `pgwarden serve`. */
interface ServeOptions {
  config: string;
  check?: boolean;
}

/**
 * Adds `pgwarden serve`. It loads and validates the configuration file and its secrets, so a bad
 * file stops start-up with every problem listed; `--check` stops there. Otherwise it runs the
 * gateway until SIGTERM or SIGINT, then stops accepting, lets statements in flight finish, and
 * flushes and checkpoints the audit trail before exiting 0.
 */
export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('run the gateway with a configuration file')
    .requiredOption('-c, --config <file>', 'configuration file (YAML), see docs/configuration.md')
    .option('--check', 'validate the configuration and its secrets, then exit')
    .action(async (options: ServeOptions, command: Command) => {
      const config = loadConfig(options.config);
      assertSecrets(config, options.config);
      if (options.check) {
        command.configureOutput().writeOut?.(`${options.config}: configuration is valid\n`);
        return;
      }
      const logger = createLogger({ level: config.logging.level });
      const pgwarden = await startPgwarden(config, logger);
      const signal = await untilSignal();
      logger.info({ signal }, 'stopping');
      await pgwarden.close();
      logger.flush();
    });
}
