#!/usr/bin/env node
// Audit trail benchmark. Compiles src/audit with tsc into a temporary folder (the package's dist/
// may not be built), then measures, with records shaped like the gateway's (src/gateway
// decisions.ts and results.ts: fresh field objects per statement, the whole policy input in the
// decision, verified claims and statement facts shared between statements):
//  1. batched mode, per decision+execution+response triple: what append() costs the caller
//     (median, p99), and all the work the triple causes: building its fields, sealing
//     (serialise, scrub, hash, chain), writing and fsync. All work is measured in rounds of
//     ROUND triples followed by a flush, as CPU time (user + system, every thread) and wall time
//     per triple, and the median over the rounds is printed;
//  2. the writer's sealing alone, median per triple, and for scale the cost of the least any
//     design must do per triple here: JSON.stringify and SHA-256 of the three records;
//  3. strict vs batched throughput with concurrent sessions, each awaiting its own appends.
// Usage: node bench/audit.mjs [--triples N] [--sessions N] [--seconds S]
import { createHash } from 'node:crypto';
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
const ROUND = 250;

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

// What a gateway session holds for all its statements: the verified identity and the facts of
// a statement it repeats (the analyser's facts are frozen and shared).
const claims = {
  iss: 'https://token.actions.githubusercontent.com',
  sub: 'repo:acme/payments:ref:refs/heads/main',
  aud: 'pgwarden',
  repository: 'acme/payments',
  ref: 'refs/heads/main',
  workflow: 'nightly-etl',
  actor: 'etl-bot',
  iat: 1764790000,
  nbf: 1764790000,
  exp: 1764793600,
  jti: '7b0c6a3e-2f41-4f0e-9a57-2b1d8c0e4f19',
};
const identity = {
  subject: claims.sub,
  issuer: claims.iss,
  groups: ['etl'],
  claims,
};
const facts = {
  text: 'SELECT pan, merchant_id FROM public.cards WHERE merchant_id = $1 LIMIT 100',
  fingerprint: '5f1c2b7a9e0d4c3b',
  kind: 'select',
  commandTag: 'SELECT',
  tables: [{ schema: 'public', name: 'cards', operations: ['read'] }],
  columns: { read: ['public.cards.pan'], written: [], filtered: ['public.cards.merchant_id'] },
  functions: [],
  copy: null,
  where: true,
  limit: 100,
  copiesData: false,
};
const decisionOf = {
  reasons: ['etl may read cards with PAN masked'],
  mask: { 'public.cards.pan': 'pan_last4' },
  bundle: { hash: createHash('sha256').update('bundle').digest('hex'), revision: 'r42' },
};

/** The three records of statement `i`, as the gateway appends them. */
function triple(trail, i) {
  const session = `c-${i % 64}`;
  const statementId = `s-${(0x10000000 + i).toString(16)}-4e1f-9c1d-2b6f0a3d8e51`;
  const decisionId = `d-${(0x20000000 + i).toString(16)}-4e1f-9c1d-2b6f0a3d8e51`;
  const input = {
    identity: { ...identity },
    connection: {
      id: session,
      client_addr: '10.0.0.7',
      tls: true,
      database: 'payments',
      user: 'etl',
      application_name: 'psql',
    },
    statement: {
      id: statementId,
      text: facts.text,
      fingerprint: facts.fingerprint,
      kind: facts.kind,
      command_tag: facts.commandTag,
      tables: facts.tables,
      columns: facts.columns,
      functions: facts.functions,
      copy: facts.copy,
      where: facts.where,
      limit: facts.limit,
      copies_data: facts.copiesData,
      in_transaction: false,
      protocol: 'extended',
    },
    approval: null,
    now: new Date().toISOString(),
  };
  return [
    trail.append('decision', {
      statement_id: statementId,
      text: facts.text,
      fingerprint: facts.fingerprint,
      statement_kind: facts.kind,
      tables: ['public.cards'],
      protocol: 'extended',
      in_transaction: false,
      input,
      decision: {
        id: decisionId,
        allow: true,
        reasons: decisionOf.reasons,
        mask: decisionOf.mask,
        approval: null,
      },
      bundle: decisionOf.bundle,
      eval_micros: 35,
      session_id: session,
      subject: identity.subject,
    }),
    trail.append('execution', {
      statement_id: statementId,
      decision_id: decisionId,
      command_tag: 'SELECT 100',
      rows: 100,
      duration_us: 812,
      error: null,
      session_id: session,
      subject: identity.subject,
    }),
    trail.append('response', {
      statement_id: statementId,
      decision_id: decisionId,
      rows: 100,
      bytes: 4821,
      // A digest per statement, as the gateway's digest of the rows sent (digits and all).
      sha256: rowDigests[i % rowDigests.length],
      masked: {
        columns: [{ column: 'public.cards.pan', method: 'pan_last4', values: 100 }],
        backstop: 0,
      },
      session_id: session,
      subject: identity.subject,
    }),
  ];
}

const rowDigests = Array.from({ length: 1024 }, (_, i) =>
  createHash('sha256').update(`rows ${i}`).digest('hex'),
);

const median = (values) => {
  const sorted = Float64Array.from(values).sort();
  return sorted[Math.floor(sorted.length / 2)];
};

async function latency(audit, dir) {
  const trail = await audit.openAuditTrail({ dir, durability: 'batched', instance: 'bench' });
  for (let i = 0; i < 2000; i++) await Promise.all(triple(trail, i)); // warm-up
  await trail.flush();
  const samples = new Float64Array(TRIPLES);
  const cpuRounds = [];
  const wallRounds = [];
  for (let start = 0; start < TRIPLES; start += ROUND) {
    const n = Math.min(ROUND, TRIPLES - start);
    const cpu = process.cpuUsage();
    const wall = process.hrtime.bigint();
    for (let i = start; i < start + n; i++) {
      const t0 = process.hrtime.bigint();
      const p = triple(trail, i);
      samples[i] = Number(process.hrtime.bigint() - t0) / 1000;
      await Promise.all(p);
      // Let the writer run now and then, as the event loop would between statements.
      if (i % 64 === 0) await new Promise((r) => setImmediate(r));
    }
    // The round's records sealed, written and synced: all the work its triples caused.
    await trail.flush();
    const used = process.cpuUsage(cpu);
    cpuRounds.push((used.user + used.system) / n);
    wallRounds.push(Number(process.hrtime.bigint() - wall) / 1000 / n);
  }
  await trail.close();
  samples.sort();
  const at = (q) => samples[Math.min(samples.length - 1, Math.floor(q * samples.length))];
  return {
    median: at(0.5),
    p99: at(0.99),
    wall: median(wallRounds),
    cpu: median(cpuRounds),
    rounds: cpuRounds.length,
  };
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
  const time = new Date().toISOString();
  const fake = {
    append: (kind, fields) => sealer.seal({ kind, time, fields }),
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

/**
 * Median µs per triple of building the three records' fields, JSON.stringify (not canonical)
 * and SHA-256 of each: about the least any design that serialises and hashes records must do.
 */
function floorMicros() {
  const fake = {
    append: (kind, fields) => createHash('sha256').update(JSON.stringify(fields)).digest('hex'),
  };
  for (let i = 0; i < 2000; i++) triple(fake, i);
  const samples = new Float64Array(TRIPLES);
  for (let i = 0; i < TRIPLES; i++) {
    const t0 = process.hrtime.bigint();
    triple(fake, i);
    samples[i] = Number(process.hrtime.bigint() - t0) / 1000;
  }
  return median(samples);
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
  const seal = await sealMicros(build);
  const floor = floorMicros();
  process.stdout.write(
    [
      `batched append, per decision+execution+response triple (${TRIPLES} triples):`,
      `  caller waits: median ${f(lat.median)} µs, p99 ${f(lat.p99)} µs`,
      `  all work incl. write+fsync: ${f(lat.wall)} µs wall, ${f(lat.cpu)} µs CPU ` +
        `(medians of ${lat.rounds} rounds of ${ROUND} triples and a flush; ` +
        'CPU is user+system time of every thread; target <= 10 µs)',
      `  of which writer-side sealing (serialise, scrub, hash, chain): median ${f(seal)} µs`,
      `  for scale: the same fields, JSON.stringify + SHA-256 each, median ${f(floor)} µs`,
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
