#!/usr/bin/env node
// Audit trail benchmark. Compiles src/audit with tsc into a temporary folder (the package's dist/
// may not be built), then measures:
//  1. batched mode: median and p99 µs that append() of one decision+execution+response triple
//     costs the caller, and the amortised cost per triple including writing and fsync;
//  2. strict vs batched throughput with concurrent sessions, each awaiting its own appends.
// Usage: node bench/audit.mjs [--triples N] [--sessions N] [--seconds S]
import { spawnSync } from 'node:child_process';
import { mkdtemp, mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const arg = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const TRIPLES = arg('triples', 20000);
const SESSIONS = arg('sessions', 32);
const SECONDS = arg('seconds', 3);

async function compile() {
  const out = await mkdtemp(join(tmpdir(), 'pgw-bench-'));
  const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  const flags = ['--outDir', out, '--rootDir', join(root, 'src'), '--module', 'nodenext'];
  flags.push('--moduleResolution', 'nodenext', '--target', 'es2022', '--skipLibCheck');
  flags.push('--types', 'node', '--esModuleInterop', join(root, 'src', 'audit', 'index.ts'));
  spawnSync(process.execPath, [tsc, ...flags], { stdio: 'ignore' });
  await writeFile(join(out, 'package.json'), '{"type":"module"}\n');
  await symlink(join(root, 'node_modules'), join(out, 'node_modules'));
  return out;
}

const input = {
  identity: { subject: 'repo:acme/payments:ref:refs/heads/main', issuer: 'https://t.example' },
  connection: { id: 'c-1', client_addr: '10.0.0.7', tls: true, database: 'payments' },
  statement: {
    id: 's-1',
    text: 'SELECT pan, merchant_id FROM public.cards WHERE merchant_id = $1 LIMIT 100',
    fingerprint: '5f1c2b7a9e0d4c3b',
    kind: 'select',
    tables: [{ schema: 'public', name: 'cards', operations: ['read'] }],
    columns: { read: ['public.cards.pan'], written: [], filtered: ['public.cards.merchant_id'] },
    functions: [],
    where: true,
    limit: 100,
    in_transaction: false,
    protocol: 'extended',
  },
  approval: null,
  now: '2026-01-01T00:00:00Z',
};

function triple(trail, i) {
  const session = `c-${i % 64}`;
  return [
    trail.append('decision', {
      session,
      statement: `s-${i}`,
      subject: input.identity.subject,
      decision_id: `d-${i}`,
      outcome: 'allow',
      text: input.statement.text,
      fingerprint: input.statement.fingerprint,
      reasons: ['etl may read cards with PAN masked'],
      mask: { 'public.cards.pan': 'pan_last4' },
      bundle: { hash: 'ab'.repeat(32), revision: 'r42' },
      eval_us: 35,
      input,
    }),
    trail.append('execution', {
      session,
      statement: `s-${i}`,
      command_tag: 'SELECT 100',
      rows: 100,
      duration_us: 812,
    }),
    trail.append('response', {
      session,
      statement: `s-${i}`,
      rows: 100,
      bytes: 4821,
      sha256: 'cd'.repeat(32),
      masked: [{ column: 'public.cards.pan', method: 'pan_last4', values: 100 }],
    }),
  ];
}

async function latency(audit, dir) {
  const trail = await audit.openAuditTrail({ dir, durability: 'batched', instance: 'bench' });
  for (let i = 0; i < 2000; i++) await Promise.all(triple(trail, i)); // warm-up
  const samples = new Float64Array(TRIPLES);
  const started = process.hrtime.bigint();
  const cpu = process.cpuUsage();
  for (let i = 0; i < TRIPLES; i++) {
    const t0 = process.hrtime.bigint();
    const p = triple(trail, i);
    samples[i] = Number(process.hrtime.bigint() - t0) / 1000;
    await Promise.all(p);
    // Let the writer's timer run now and then, as the event loop would between statements.
    if (i % 256 === 0) await new Promise((r) => setImmediate(r));
  }
  await trail.flush();
  const amortised = Number(process.hrtime.bigint() - started) / 1000 / TRIPLES;
  const used = process.cpuUsage(cpu);
  const cpuPerTriple = (used.user + used.system) / TRIPLES;
  await trail.close();
  samples.sort();
  const at = (q) => samples[Math.min(samples.length - 1, Math.floor(q * samples.length))];
  return { median: at(0.5), p99: at(0.99), amortised, cpuPerTriple };
}

async function throughput(audit, dir, durability) {
  const trail = await audit.openAuditTrail({ dir, durability, instance: durability });
  let done = 0;
  let stop = false;
  const sessions = Array.from({ length: SESSIONS }, async (_, s) => {
    for (let i = s; !stop; i += SESSIONS) {
      // A gateway awaits the decision record before forwarding, then the other two.
      // The gateway waits for the decision record before forwarding the statement; the
      // execution and response records follow without holding the client.
      const [decision, execution, response] = triple(trail, i);
      await decision;
      void Promise.all([execution, response]).catch(() => undefined);
      done++;
      // Each statement costs at least one event-loop turn of network I/O in the gateway.
      await new Promise((r) => setImmediate(r));
    }
  });
  await new Promise((r) => setTimeout(r, SECONDS * 1000));
  stop = true;
  await Promise.all(sessions);
  const stats = trail.stats();
  await trail.close();
  return { perSecond: done / SECONDS, fsyncs: stats.fsyncs, records: stats.records };
}

/**
 * Main-thread µs per triple of the sealing the writer does later (serialise, scrub card numbers,
 * hash, chain), measured alone: the part of the work the caller no longer waits for.
 */
async function sealMicros(build) {
  const { ChainSealer } = await import(join(build, 'audit', 'chain.js'));
  const { silentLogger } = await import(join(build, 'logger.js'));
  const sealer = new ChainSealer(
    {
      instance: 'bench',
      dir: '/nonexistent',
      rotateBytes: 1e15,
      rotateMs: 1e15,
      key: null,
      logger: silentLogger,
    },
    { seq: 0, hash: '0'.repeat(64), file: 'x' },
  );
  const fake = {
    append: (kind, fields) => sealer.seal({ kind, time: new Date().toISOString(), fields }),
  };
  for (let i = 0; i < 2000; i++) triple(fake, i);
  const samples = new Float64Array(TRIPLES);
  for (let i = 0; i < TRIPLES; i++) {
    const t0 = process.hrtime.bigint();
    triple(fake, i);
    samples[i] = Number(process.hrtime.bigint() - t0) / 1000;
  }
  samples.sort();
  return samples[Math.floor(samples.length / 2)];
}

/** CPU µs of one JSON.stringify of the decision record: a yardstick for this machine's speed. */
function stringifyMicros() {
  const rec = {
    input,
    text: input.statement.text,
    reasons: ['x'],
    bundle: { hash: 'ab'.repeat(32) },
  };
  for (let i = 0; i < 2000; i++) JSON.stringify(rec);
  const cpu = process.cpuUsage();
  for (let i = 0; i < 20000; i++) JSON.stringify(rec);
  const used = process.cpuUsage(cpu);
  return (used.user + used.system) / 20000;
}

const build = await compile();
const audit = await import(join(build, 'audit', 'index.js'));
const dir = await mkdtemp(join(tmpdir(), 'pgw-bench-trail-'));
try {
  await mkdir(dir, { recursive: true });
  const lat = await latency(audit, join(dir, 'latency'));
  const batched = await throughput(audit, join(dir, 'batched'), 'batched');
  const strict = await throughput(audit, join(dir, 'strict'), 'strict');
  const f = (n) => n.toFixed(1);
  process.stdout.write(
    [
      `batched append, per decision+execution+response triple (${TRIPLES} triples):`,
      `  caller waits: median ${f(lat.median)} µs, p99 ${f(lat.p99)} µs`,
      `  all work incl. write+fsync: ${f(lat.amortised)} µs wall, ${f(lat.cpuPerTriple)} µs CPU`,
      `  writer-side sealing (serialise, scrub, hash), median ${f(await sealMicros(build))} µs`,
      `  (for scale: JSON.stringify of the decision record takes ${f(stringifyMicros())} µs here)`,
      `throughput, ${SESSIONS} concurrent sessions, ${SECONDS}s each:`,
      `  batched ${Math.round(batched.perSecond)} triples/s (${batched.fsyncs} fsyncs)`,
      `  strict  ${Math.round(strict.perSecond)} triples/s (${strict.fsyncs} fsyncs, ` +
        `${f(strict.records / Math.max(1, strict.fsyncs))} records per fsync)`,
      `  strict / batched = ${(strict.perSecond / batched.perSecond).toFixed(2)}`,
      '',
    ].join('\n'),
  );
} finally {
  await rm(dir, { recursive: true, force: true });
  await rm(build, { recursive: true, force: true });
}
