// The strict-mode promise, end to end: kill -9 a real gateway (the demo, from the current
// sources, in a child process) while clients write through it, then check that every row that
// reached PostgreSQL has its allowing decision record in the trail, and that the trail verifies.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readdir, readFile, rm, writeFile, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyAudit } from '../../src/audit/index.js';
import { compilePackage } from './support/compile.js';

let build: string;
let state: string;
let child: ChildProcess | undefined;
/** The demo's PostgreSQL, which outlives the killed gateway: its folder and its postmaster. */
let postgresDir: string | undefined;
let postmaster: number | undefined;

// Starts the demo with strict audit and prints what the test needs, on one line.
const CHILD = `
import { startDemo } from './dist/cli/demo/run.js';
import { silentLogger } from './dist/logger.js';
const demo = await startDemo({
  stateDir: process.argv[2], gatewayPort: 0, httpPort: 0, auditDurability: 'strict',
  logger: silentLogger,
});
const { host, port, user, password, dataDir } = demo.postgres;
process.stdout.write(JSON.stringify({ info: demo.info, postgres: { host, port, user, password, dataDir } }) + '\\n');
`;

// Amounts of the test's rows, above anything the demo's seed writes.
const BASE = 900_000;

beforeAll(async () => {
  build = await compilePackage();
  await writeFile(join(build, 'child.mjs'), CHILD);
  state = await mkdtemp(join(tmpdir(), 'pgw-gateway-crash-'));
}, 180_000);

afterAll(async () => {
  child?.kill('SIGKILL');
  // Fast shutdown of the demo's PostgreSQL, which the killed gateway left running.
  if (postmaster && alive(postmaster)) {
    process.kill(postmaster, 'SIGINT');
    for (let i = 0; i < 300 && alive(postmaster); i++) await new Promise((r) => setTimeout(r, 100));
  }
  if (postgresDir) await rm(postgresDir, { recursive: true, force: true });
  await rm(state, { recursive: true, force: true });
  await rm(build, { recursive: true, force: true });
}, 60_000);

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('kill -9 of a gateway in strict mode', () => {
  it('leaves no row in PostgreSQL without its decision record', async () => {
    const proc = spawn(process.execPath, [join(build, 'child.mjs'), state], {
      cwd: build,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child = proc;
    let out = '';
    let err = '';
    proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    proc.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    const exited = once(proc, 'exit');
    for (let i = 0; !out.includes('\n'); i++) {
      if (proc.exitCode !== null || i > 1800) throw new Error(`demo did not start: ${err}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const started = JSON.parse(out) as {
      info: { gateway: { host: string; port: number }; audit_dir: string };
      postgres: { host: string; port: number; user: string; password: string; dataDir: string };
    };
    postgresDir = started.postgres.dataDir;
    const db = new pg.Client({ ...started.postgres, database: 'payments' });
    await db.connect();
    // The postmaster is the parent of this connection's backend (Linux: /proc/PID/stat).
    const backend = (await db.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!;
    const stat = await readFile(`/proc/${backend.pid}/stat`, 'utf8');
    postmaster = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    const token = (await readFile(join(state, 'tokens', 'etl.jwt'), 'utf8')).trim();

    // Eight sessions insert rows with distinct amounts until the gateway dies under them.
    let next = BASE;
    let acknowledged = 0;
    const sessions = Array.from({ length: 8 }, async () => {
      const client = new pg.Client({
        host: started.info.gateway.host,
        port: started.info.gateway.port,
        database: 'payments',
        user: 'etl',
        password: token,
      });
      client.on('error', () => undefined);
      await client.connect();
      try {
        for (;;) {
          const amount = next++;
          await client.query(
            `INSERT INTO transactions (card_id, merchant_id, amount) VALUES (1, 1, ${amount})`,
          );
          acknowledged++;
        }
      } catch {
        // The gateway is gone.
      }
    });
    while (acknowledged < 300) {
      if (proc.exitCode !== null) throw new Error(`gateway exited: ${err}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    proc.kill('SIGKILL');
    await exited;
    await Promise.all(sessions);

    const { rows } = await db.query<{ amount: string }>(
      'SELECT amount::int::text AS amount FROM transactions WHERE amount >= $1',
      [BASE],
    );
    await db.end();
    expect(rows.length).toBeGreaterThanOrEqual(300);

    const dir = started.info.audit_dir;
    const files = (await readdir(dir)).filter((f) => f.endsWith('.jsonl'));
    const allowed = new Set<string>();
    for (const f of files) {
      for (const line of (await readFile(join(dir, f), 'utf8')).split('\n')) {
        if (!line.includes('"kind":"decision"')) continue;
        const r = JSON.parse(line) as { text?: string; decision?: { allow?: boolean } };
        const amount = /VALUES \(1, 1, (\d+)\)/.exec(r.text ?? '')?.[1];
        if (amount && r.decision?.allow === true) allowed.add(amount);
      }
    }
    const unrecorded = rows.map((r) => r.amount).filter((a) => !allowed.has(a));
    expect(unrecorded).toEqual([]);

    const report = await verifyAudit(dir);
    expect(report.faults).toEqual([]);
  }, 300_000);
});
