import path from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import { createLogger } from '../../logger.js';
import { startDemo, type DemoInfo } from '../demo/run.js';
import { releaseSignalHooks } from '../embedded-postgres.js';
import { untilSignal } from '../signals.js';

/** Options of `pgwarden demo`. */
interface DemoCommandOptions {
  stateDir: string;
  port: number;
  httpPort: number;
  logLevel: string;
}

/**
 * Adds `pgwarden demo` (what `npm start` runs): an embedded PostgreSQL with a small cardholder
 * database, a local identity provider, the shipped policy, the gateway and the HTTP server, until
 * Ctrl-C.
 */
export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('run the gateway in front of an embedded PostgreSQL with demo identities')
    .option('--state-dir <dir>', 'where keys, data and the audit trail are kept', '.pgwarden-demo')
    .option('--port <port>', 'gateway port', portNumber, 6432)
    .option('--http-port <port>', 'HTTP port (approvals, bundles, metrics)', portNumber, 8181)
    .option('--log-level <level>', 'operational log level', 'warn')
    .action(async (options: DemoCommandOptions, command: Command) => {
      const logger = createLogger({ level: options.logLevel });
      // The demo stops PostgreSQL itself, after the gateway, on Ctrl-C.
      releaseSignalHooks();
      const demo = await startDemo({
        stateDir: path.resolve(options.stateDir),
        gatewayPort: options.port,
        httpPort: options.httpPort,
        logger,
      });
      command.configureOutput().writeOut?.(banner(demo.info, path.resolve(options.stateDir)));
      await untilSignal();
      await demo.stop();
      logger.flush();
    });
}

function banner(info: DemoInfo, stateDir: string): string {
  const { host, port, database, ca_file } = info.gateway;
  const conn =
    `host=${host} port=${port} dbname=${database} ` + `sslmode=verify-full sslrootcert=${ca_file}`;
  const lines = [
    `pgwarden demo is running (state in ${stateDir}; Ctrl-C stops it)`,
    '',
    `  gateway   ${host}:${port}  database ${database}  (TLS; CA ${ca_file})`,
    `  http      ${info.http}  (approvals page: ${info.http}/approvals)`,
    `  audit     ${info.audit_dir}`,
    `  policy    bundle ${info.bundle.hash.slice(0, 16)}… revision ${info.bundle.revision}`,
    '',
    'Connect as an identity (each token file holds a fresh JWT):',
  ];
  for (const [name, identity] of Object.entries(info.identities)) {
    lines.push(
      `  # ${name} (${identity.groups.join(', ')})`,
      `  PGPASSWORD="$(cat ${identity.token_file})" psql "${conn} user=${name}"`,
    );
  }
  lines.push('', `Details for scripts: ${path.join(stateDir, 'demo.json')}`, '');
  return lines.join('\n');
}

function portNumber(value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new InvalidArgumentError('expected a port number (0-65535)');
  }
  return port;
}
