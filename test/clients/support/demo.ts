// A demo gateway in its own process, for the client suite. Real clients (psql, pgbench, psycopg,
// a browser) are child processes too; with the gateway in a separate process nothing a test does
// synchronously can stall it, and a crash shows up as the process exiting.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { chmod, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import type { DemoInfo } from '../../../src/cli/demo/run.js';

/** The package root: where bin/pgwarden.js and README.md live. */
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

/** The CLI entry the demo is started with; runs the build in dist/. */
export const CLI = path.join(ROOT, 'bin', 'pgwarden.js');

const execAsync = promisify(execFile);

/** A demo running in a child process, with what a test needs to reach it. */
export interface DemoProcess {
  stateDir: string;
  info: DemoInfo;
  child: ChildProcess;
  /** Set once the child has exited, with its code or signal. */
  exited: { code: number | null; signal: NodeJS.Signals | null } | null;
  /** Superuser of the embedded PostgreSQL behind the gateway, for setting up data. */
  superuser: { host: string; port: number; user: string; password: string };
  /** The identity's JWT, as its token file holds it. */
  token(name: string): Promise<string>;
  /** libpq environment for an identity through the gateway (plaintext on loopback by default). */
  env(name: string, tls?: boolean): Promise<NodeJS.ProcessEnv>;
  /** Stops the demo with SIGTERM and removes its state; resolves with the exit code. */
  stop(): Promise<number | null>;
}

/** Starts `pgwarden demo` on free ports in a fresh state folder; resolves once it serves. */
export async function startDemoProcess(extraArgs: string[] = []): Promise<DemoProcess> {
  const stateDir = await mkdtemp(path.join(os.tmpdir(), 'pgwarden-clients-'));
  await chmod(stateDir, 0o755);
  const child = spawn(
    process.execPath,
    [CLI, 'demo', '--state-dir', stateDir, '--port', '0', '--http-port', '0', ...extraArgs],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env } },
  );
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  const demo: Partial<DemoProcess> & { exited: DemoProcess['exited'] } = { exited: null };
  child.on('exit', (code, signal) => (demo.exited = { code, signal }));

  // The banner's last line is printed after demo.json is written.
  const deadline = Date.now() + 180_000;
  while (!output.includes('Details for scripts')) {
    if (demo.exited || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`pgwarden demo did not start:\n${output.slice(-4000)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const info = JSON.parse(await readFile(path.join(stateDir, 'demo.json'), 'utf8')) as DemoInfo;
  const config = parse(await readFile(path.join(stateDir, 'pgwarden.yaml'), 'utf8')) as {
    upstream: { host: string; port: number };
  };
  const secrets = JSON.parse(
    await readFile(path.join(stateDir, 'secrets', 'secrets.json'), 'utf8'),
  ) as { postgresPassword: string };

  const token = async (name: string) => {
    const identity = info.identities[name];
    if (!identity) throw new TypeError(`the demo has no identity ${name}`);
    return (await readFile(identity.token_file, 'utf8')).trim();
  };
  return Object.assign(demo, {
    stateDir,
    info,
    child,
    superuser: {
      host: config.upstream.host,
      port: config.upstream.port,
      user: 'postgres',
      password: secrets.postgresPassword,
    },
    token,
    env: async (name: string, tls = false) => ({
      ...cleanEnv(),
      PGHOST: info.gateway.host,
      PGPORT: String(info.gateway.port),
      PGDATABASE: info.gateway.database,
      PGUSER: name,
      PGPASSWORD: await token(name),
      PGSSLMODE: tls ? 'verify-full' : 'disable',
      ...(tls ? { PGSSLROOTCERT: info.gateway.ca_file } : {}),
    }),
    stop: async () => {
      if (!demo.exited) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
        if (!demo.exited) await once(child, 'exit');
        clearTimeout(timer);
      }
      await removeState(stateDir);
      return demo.exited?.code ?? null;
    },
  }) as DemoProcess;
}

/** libpq environment for the demo's superuser, straight to the embedded PostgreSQL. */
export function superuserEnv(demo: DemoProcess): NodeJS.ProcessEnv {
  const su = demo.superuser;
  return {
    ...cleanEnv(),
    PGHOST: su.host,
    PGPORT: String(su.port),
    PGUSER: su.user,
    PGPASSWORD: su.password,
    PGDATABASE: demo.info.gateway.database,
    PGSSLMODE: 'disable',
  };
}

/** The process environment without libpq variables a developer may have set. */
export function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!key.startsWith('PG')) env[key] = value;
  }
  // A developer's own ~/.pgpass or service file must not change what a test connects to.
  return { ...env, PGPASSFILE: '/dev/null', PGSERVICEFILE: '/dev/null' };
}

/** Output of a finished child process, whatever its exit code. */
export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs a program asynchronously (the gateway must keep serving meanwhile) and returns its exit
 * code and output instead of throwing on a non-zero exit.
 */
export async function run(
  file: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  timeout = 120_000,
): Promise<RunResult> {
  try {
    const { stdout, stderr } = await execAsync(file, args, {
      env,
      timeout,
      maxBuffer: 64 * 1024 * 1024,
      encoding: 'utf8',
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number | string; stdout?: string; stderr?: string };
    if (typeof e.code !== 'number') throw err;
    return { code: e.code, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

/** One audit record, as far as these tests read it. */
export interface AuditRecord {
  kind: string;
  seq: number;
  session_id?: string;
  statement_id?: string;
  decision_id?: string;
  text?: string;
  command_tag?: string;
  error?: unknown;
  [key: string]: unknown;
}

/** Every record of the demo's audit trail, in file order. */
export async function readAudit(demo: DemoProcess): Promise<AuditRecord[]> {
  const dir = demo.info.audit_dir;
  const files = (await readdir(dir)).filter((f) => f.endsWith('.jsonl')).sort();
  const records: AuditRecord[] = [];
  for (const file of files) {
    for (const line of (await readFile(path.join(dir, file), 'utf8')).split('\n')) {
      if (line.trim()) records.push(JSON.parse(line) as AuditRecord);
    }
  }
  return records;
}

/** Polls `probe` until it returns a value other than undefined. */
export async function waitFor<T>(
  probe: () => T | undefined | Promise<T | undefined>,
  ms = 20_000,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * Removes a state folder and the PostgreSQL data folder `demo.json` names, which the demo keeps
 * outside the state folder when the `postgres` user could not reach it (src/cli/demo/run.ts).
 */
async function removeState(stateDir: string): Promise<void> {
  const info = await readFile(path.join(stateDir, 'demo.json'), 'utf8')
    .then((text) => JSON.parse(text) as Partial<DemoInfo>)
    .catch(() => ({}) as Partial<DemoInfo>);
  await rm(stateDir, { recursive: true, force: true });
  if (info.postgres_data_dir) await rm(info.postgres_data_dir, { recursive: true, force: true });
}
