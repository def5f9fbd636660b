// pgbench -S through pgwarden, against the baselines measured in the same run: PostgreSQL
// directly, PgBouncer (when installed) and pgwarden as a plain relay (enforcement off: the same
// handshake and sockets, no parsing, policy or statement audit). pgwarden itself runs with the
// shipped policy, masking and audit, once with `batched` and once with `strict` audit durability.
// Modes: simple, extended, prepared. Targets alternate within each round so drift on a noisy
// machine hits all alike.
//
//   npm run bench:pgbench     (BENCH_SECONDS=10 BENCH_ROUNDS=2 BENCH_CLIENTS=8 BENCH_WARMUP=2,
//                              BENCH_MODES=simple,extended,prepared by default)
//
// Prints a table for people, then, as its last line, one JSON object for scripts.
import { execFile, execFileSync, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { startPgwarden } from '../dist/cli/app.js';
import { startDemo } from '../dist/cli/demo/run.js';
import { DEMO_AUDIENCE } from '../dist/cli/demo/idp.js';
import { freePort } from '../dist/cli/embedded-postgres.js';
import { parseConfig } from '../dist/config/index.js';
import { startGateway } from '../dist/gateway/index.js';
import { createVerifier } from '../dist/identity/index.js';
import { silentLogger } from '../dist/logger.js';

const seconds = Number(process.env.BENCH_SECONDS ?? 10);
const rounds = Number(process.env.BENCH_ROUNDS ?? 2);
const clients = Number(process.env.BENCH_CLIENTS ?? 8);
const warmup = Number(process.env.BENCH_WARMUP ?? 2);
const modes = (process.env.BENCH_MODES ?? 'simple,extended,prepared').split(',');

const pgbench = which('pgbench');
if (!pgbench) {
  console.error('pgbench is not installed (Debian: apt-get install postgresql); nothing measured');
  process.exit(1);
}

const state = await mkdtemp(path.join(os.tmpdir(), 'pgwarden-bench-'));
await chmod(state, 0o755);
const demo = await startDemo({
  stateDir: state,
  gatewayPort: 0,
  httpPort: 0,
  logger: silentLogger,
  auditDurability: 'batched',
});
const pg = demo.postgres;
const stops = [() => demo.stop(), () => rm(state, { recursive: true, force: true })];

try {
  const admin = {
    PGHOST: pg.host,
    PGPORT: String(pg.port),
    PGUSER: pg.user,
    PGPASSWORD: pg.password,
  };
  await run(pgbench, ['-i', '-q', '-s', '10', 'payments'], admin);
  await run(
    which('psql') ?? 'psql',
    [
      '-q',
      '-d',
      'payments',
      '-c',
      'GRANT SELECT, UPDATE, INSERT ON pgbench_accounts, pgbench_branches, pgbench_tellers, pgbench_history TO pgwarden_gateway',
    ],
    admin,
  );

  const etl = {
    PGHOST: demo.info.gateway.host,
    PGUSER: 'etl',
    PGPASSWORD: (await readFile(demo.info.identities.etl.token_file, 'utf8')).trim(),
    PGSSLMODE: 'disable',
  };
  const strictPort = await startStrict(stops);
  const targets = {
    direct: admin,
    pgbouncer: null,
    relay: { ...etl, PGPORT: String(await startRelay(stops)) },
    pgwarden: { ...etl, PGPORT: String(demo.info.gateway.port) },
    pgwarden_strict: { ...etl, PGPORT: String(strictPort) },
  };
  const bouncerPort = await startPgbouncer(pg, stops);
  if (bouncerPort) targets.pgbouncer = { ...admin, PGPORT: String(bouncerPort) };
  else delete targets.pgbouncer;

  const results = {};
  for (const mode of modes) {
    results[mode] = {};
    // Unmeasured: JIT compilation and first decisions would otherwise land in round 1 only.
    if (warmup > 0) for (const env of Object.values(targets)) await measure(mode, env, warmup);
    for (let round = 0; round < rounds; round++) {
      for (const [name, env] of Object.entries(targets)) {
        const { tps, cpuMicros } = await measure(mode, env);
        (results[mode][name] ??= []).push(tps);
        process.stderr.write(
          `${mode} ${name} round ${round + 1}: ${tps.toFixed(0)} tps, ` +
            `gateway process CPU ${cpuMicros.toFixed(1)} µs per transaction\n`,
        );
      }
    }
  }

  const summary = {};
  const rows = [];
  for (const mode of modes) {
    const m = Object.fromEntries(Object.entries(results[mode]).map(([k, v]) => [k, median(v)]));
    summary[mode] = {
      direct: round0(m.direct),
      pgbouncer: m.pgbouncer === undefined ? null : round0(m.pgbouncer),
      relay: round0(m.relay),
      pgwarden: round0(m.pgwarden),
      ratio_to_pgbouncer: m.pgbouncer ? round2(m.pgwarden / m.pgbouncer) : null,
      ratio_to_relay: round2(m.pgwarden / m.relay),
      ratio_to_direct: round2(m.pgwarden / m.direct),
      pgwarden_strict: round0(m.pgwarden_strict),
      strict_to_batched: round2(m.pgwarden_strict / m.pgwarden),
    };
    rows.push([
      mode,
      m.direct,
      m.pgbouncer,
      m.relay,
      m.pgwarden,
      m.pgwarden_strict,
      summary[mode].ratio_to_pgbouncer,
      summary[mode].strict_to_batched,
    ]);
  }
  console.log(`pgbench -S, ${clients} clients, ${seconds}s x ${rounds} rounds, median TPS`);
  console.log(
    ['mode', 'direct', 'pgbouncer', 'relay', 'pgwarden', 'strict', 'x pgbouncer', 'strict/batch']
      .map((c) => c.padStart(13))
      .join(''),
  );
  for (const row of rows) {
    console.log(
      row
        .map((c) =>
          (c === undefined || c === null
            ? '-'
            : typeof c === 'number'
              ? c < 10
                ? c.toFixed(2)
                : c.toFixed(0)
              : c
          ).padStart(13),
        )
        .join(''),
    );
  }
  console.log(JSON.stringify(summary));
} finally {
  for (const stop of stops) await stop().catch(() => {});
}

/**
 * One pgbench run: its TPS, and the CPU this process (where the gateways run) spent per
 * transaction, which is steadier than TPS on a shared machine.
 */
async function measure(mode, env, duration = seconds) {
  const cpu = process.cpuUsage();
  const out = await run(
    pgbench,
    ['-n', '-S', '-M', mode, '-c', String(clients), '-j', '2', '-T', String(duration), 'payments'],
    env,
  );
  const used = process.cpuUsage(cpu);
  const match = /tps = ([\d.]+)/.exec(out);
  if (!match) throw new Error(`pgbench printed no tps:\n${out}`);
  const done = Number(/actually processed: (\d+)/.exec(out)?.[1] ?? NaN);
  return { tps: Number(match[1]), cpuMicros: (used.user + used.system) / done };
}

// Asynchronous on purpose: the gateways run in this process and must keep serving
// while pgbench waits on them.
async function run(cmd, args, env) {
  const { stdout } = await promisify(execFile)(cmd, args, {
    env: { ...process.env, ...env },
    encoding: 'utf8',
    maxBuffer: 16 * 1024 * 1024,
  });
  return stdout;
}

function which(name) {
  for (const dir of ['/usr/bin', '/usr/local/bin', '/usr/sbin']) {
    if (existsSync(path.join(dir, name))) return path.join(dir, name);
  }
  return null;
}

/**
 * A second pgwarden on the demo's configuration with `strict` audit durability (its own trail),
 * the default for cardholder databases. Returns its port.
 */
async function startStrict(stops) {
  const file = path.join(state, 'pgwarden.yaml');
  const config = parseYaml(await readFile(file, 'utf8'));
  config.instance_id = 'bench-strict';
  config.listen.port = 0;
  config.http = { ...config.http, enabled: false };
  config.audit = { ...config.audit, dir: path.join(state, 'audit-strict'), durability: 'strict' };
  config.approvals = { ...config.approvals, path: path.join(state, 'approvals-strict.json') };
  const strictFile = path.join(state, 'pgwarden-strict.yaml');
  const text = stringifyYaml(config);
  await writeFile(strictFile, text);
  const strict = await startPgwarden(parseConfig(text, strictFile), silentLogger);
  stops.unshift(() => strict.close());
  return strict.gateway.address.port;
}

/**
 * The "plain relay" baseline: a gateway with enforcement off. Clients log in exactly as to
 * pgwarden (token verified against the demo's identity provider, vaulted upstream credentials);
 * after that it relays bytes without deciding, masking or auditing statements. Returns its port.
 */
async function startRelay(stops) {
  const password = await readFile(path.join(state, 'secrets', 'upstream-password'), 'utf8');
  const verifier = createVerifier({
    issuers: [{ issuer: demo.info.issuer, audiences: [DEMO_AUDIENCE], discovery: true }],
  });
  const refuse = () => {
    throw new Error('the relay decides nothing');
  };
  const gateway = await startGateway({
    listen: { host: '127.0.0.1', port: 0 },
    allowPlaintextLoopback: true,
    upstream: {
      host: pg.host,
      port: pg.port,
      user: 'pgwarden_gateway',
      password: () => password.trim(),
    },
    verifier,
    analyzer: { analyze: refuse },
    decider: refuse,
    audit: { append: async () => {}, failed: false },
    logger: silentLogger,
    decisionCache: false,
    enforcement: 'off',
  });
  stops.unshift(async () => {
    await gateway.close();
    verifier.close?.();
  });
  return gateway.address.port;
}

/** PgBouncer in session mode, run as the postgres user (it refuses root), when installed. */
async function startPgbouncer(pg, stops) {
  const bin = which('pgbouncer');
  if (!bin) return null;
  const dir = await mkdtemp(path.join(os.tmpdir(), 'pgwarden-bouncer-'));
  await chmod(dir, 0o777);
  const port = await freePort();
  await writeFile(path.join(dir, 'users.txt'), `"${pg.user}" "${pg.password}"\n`);
  await writeFile(
    path.join(dir, 'pgbouncer.ini'),
    [
      '[databases]',
      `payments = host=127.0.0.1 port=${pg.port} dbname=payments`,
      '[pgbouncer]',
      'listen_addr = 127.0.0.1',
      `listen_port = ${port}`,
      `unix_socket_dir =`,
      'auth_type = plain',
      `auth_file = ${path.join(dir, 'users.txt')}`,
      'pool_mode = session',
      `max_client_conn = 200`,
      `default_pool_size = ${clients + 4}`,
      // No max_prepared_statements: session pooling keeps each client's prepared statements on
      // its own server connection, and PgBouncer before 1.21 refuses the unknown setting.
      `logfile = ${path.join(dir, 'pgbouncer.log')}`,
      '',
    ].join('\n'),
  );
  for (const f of ['users.txt', 'pgbouncer.ini']) await chmod(path.join(dir, f), 0o644);
  const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
  const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
  const child = spawn(bin, [path.join(dir, 'pgbouncer.ini')], {
    uid: process.getuid?.() === 0 ? uid : undefined,
    gid: process.getuid?.() === 0 ? gid : undefined,
    stdio: 'ignore',
  });
  stops.unshift(async () => {
    child.kill('SIGTERM');
    await rm(dir, { recursive: true, force: true });
  });
  for (let i = 0; i < 50; i++) {
    if (await canConnect(port)) return port;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const log = await readFile(path.join(dir, 'pgbouncer.log'), 'utf8').catch(() => '');
  console.error(
    `pgbouncer did not start; measured without it\n${log.split('\n').slice(-5).join('\n')}`,
  );
  return null;
}

function canConnect(port) {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1', () => {
      socket.destroy();
      resolve(true);
    });
    socket.on('error', () => resolve(false));
  });
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function round0(x) {
  return Math.round(x);
}

function round2(x) {
  return Math.round(x * 100) / 100;
}
