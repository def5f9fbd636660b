// Helpers for tests that need the run's PostgreSQL server (started in global-setup.ts).
import { inject } from 'vitest';
import pg from 'pg';

/** Address and superuser credentials of the test run's PostgreSQL. */
export function testServer(): { host: string; port: number; user: string; password: string } {
  return inject('pg');
}

/** Creates a fresh database for one test file and returns its name. */
export async function createDatabase(prefix: string): Promise<string> {
  const name = `${prefix}_${process.pid}_${Math.floor(Math.random() * 1e9)}`.toLowerCase();
  const client = new pg.Client({ ...testServer(), database: 'postgres' });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE ${name}`);
  } finally {
    await client.end();
  }
  return name;
}

/** A connected `pg` client straight to the test server (not through the gateway). */
export async function directClient(database = 'postgres'): Promise<pg.Client> {
  const client = new pg.Client({ ...testServer(), database });
  await client.connect();
  return client;
}

/**
 * The environment libpq tools (psql, pgbench, psycopg) read, pointing at the test server unless
 * overridden (for example at a gateway with a token as the password). Passing credentials
 * through the environment keeps them off command lines.
 */
export function libpqEnv(
  target: {
    host?: string;
    port?: number;
    user?: string;
    password?: string;
    database?: string;
  } = {},
): NodeJS.ProcessEnv {
  const server = testServer();
  return {
    ...process.env,
    PGHOST: target.host ?? server.host,
    PGPORT: String(target.port ?? server.port),
    PGUSER: target.user ?? server.user,
    PGPASSWORD: target.password ?? server.password,
    PGDATABASE: target.database ?? 'postgres',
    // A developer's own ~/.pgpass or service file must not change what a test connects to.
    PGPASSFILE: '/dev/null',
    PGSERVICEFILE: '/dev/null',
  };
}
