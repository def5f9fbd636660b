#!/usr/bin/env node
// Policy decision benchmark. Compiles src/policy and src/rego with tsc into a folder under
// node_modules/.cache (inside the package, so the Rego runtime is found), builds the shipped
// policy (rego/) into a bundle, then for a mix of statements measures, per statement:
//   building the policy input + evaluating the bundle through opa-wasm + checking the decision
// (PolicyEngine.decide, exactly what the gateway calls). Prints the median and p99 in µs.
// Target: median <= 20 µs. Also measures the same with a shadow candidate set (the candidate
// runs after the live decision; its cost is reported separately).
// Usage: node bench/policy.mjs [--iterations N]
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const at = args.indexOf('--iterations');
const ITERATIONS = at >= 0 ? Number(args[at + 1]) : 50_000;

async function compile() {
  const cache = join(root, 'node_modules', '.cache');
  await mkdir(cache, { recursive: true });
  const out = await mkdtemp(join(cache, 'pgw-bench-policy-'));
  const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  const flags = ['--outDir', out, '--rootDir', join(root, 'src'), '--module', 'nodenext'];
  flags.push('--moduleResolution', 'nodenext', '--target', 'es2022', '--skipLibCheck');
  flags.push('--types', 'node', '--esModuleInterop', '--resolveJsonModule');
  flags.push(join(root, 'src', 'policy', 'index.ts'), join(root, 'src', 'rego', 'index.ts'));
  spawnSync(process.execPath, [tsc, ...flags], { stdio: 'ignore' });
  await writeFile(join(out, 'package.json'), '{"type":"module"}\n');
  return out;
}

/** Statement facts as the analyser would give them; the input is built from them each time. */
const STATEMENTS = [
  {
    kind: 'select',
    tag: 'SELECT',
    tables: [['public', 'cards', ['read']]],
    read: ['public.cards.pan', 'public.cards.id'],
    filtered: ['public.cards.id'],
    where: true,
  },
  {
    kind: 'insert',
    tag: 'INSERT',
    tables: [['public', 'transactions', ['insert']]],
    read: [],
    filtered: [],
    where: false,
  },
  {
    kind: 'select',
    tag: 'SELECT',
    tables: [['public', 'holders', ['read']]],
    read: ['public.holders.email'],
    filtered: [],
    where: false,
  },
  { kind: 'create_table', tag: 'CREATE TABLE', tables: [['public', 'x', ['create']]], read: [] },
  { kind: 'begin', tag: 'BEGIN', tables: [], read: [] },
];

function buildInput(facts, n) {
  return {
    identity: {
      subject: 'repo:acme/payments:ref:refs/heads/main',
      issuer: 'https://token.actions.example',
      groups: ['etl'],
      claims: { repository: 'acme/payments', ref: 'refs/heads/main' },
    },
    connection: {
      id: 'c-1',
      client_addr: '10.0.0.7',
      tls: true,
      database: 'payments',
      user: 'ci-nightly',
      application_name: 'nightly-build',
    },
    statement: {
      id: `s-${n}`,
      text: 'SELECT …',
      fingerprint: 'f0e1d2c3',
      kind: facts.kind,
      command_tag: facts.tag,
      tables: facts.tables.map(([schema, name, operations]) => ({ schema, name, operations })),
      columns: { read: facts.read, written: [], filtered: facts.filtered ?? [] },
      functions: [],
      copy: null,
      where: facts.where ?? false,
      limit: null,
      copies_data: false,
      in_transaction: false,
      protocol: 'extended',
    },
    approval: null,
    now: new Date().toISOString(),
  };
}

/** Times each decision; yields to the event loop every 100 (as sessions would) when asked. */
async function measure(engine, iterations, yieldEvery = 0) {
  const times = new Float64Array(iterations);
  let allowed = 0;
  const cpuStart = process.cpuUsage();
  for (let i = 0; i < iterations; i++) {
    if (yieldEvery && i % yieldEvery === 0) await new Promise((r) => setImmediate(r));
    const facts = STATEMENTS[i % STATEMENTS.length];
    const start = process.hrtime.bigint();
    const decision = engine.decide(buildInput(facts, i));
    times[i] = Number(process.hrtime.bigint() - start) / 1000;
    if (decision.allow) allowed++;
  }
  const cpu = process.cpuUsage(cpuStart);
  times.sort();
  const q = (p) => times[Math.min(times.length - 1, Math.floor(times.length * p))];
  // CPU time per statement is less disturbed than wall time when other processes compete.
  const cpuMicros = (cpu.user + cpu.system) / iterations;
  return { median: q(0.5), p99: q(0.99), allowed, cpuMicros };
}

const out = await compile();
try {
  const policy = await import(pathToFileURL(join(out, 'policy', 'index.js')).href);
  const rego = await import(pathToFileURL(join(out, 'rego', 'index.js')).href);
  const archive = await rego.buildBundle({
    paths: [join(root, 'rego')],
    entrypoints: ['pgwarden/decision'],
    revision: 'bench',
  });
  const load = () =>
    policy.loadBundleArchive(archive, { source: 'bench', builtins: rego.hostBuiltins() });
  const engine = new policy.PolicyEngine();
  engine.swap(await load());

  await measure(engine, Math.min(ITERATIONS, 5000)); // warm-up: JIT and Wasm tiers
  const live = await measure(engine, ITERATIONS);
  console.log(
    `decide (input + eval + decode): median ${live.median.toFixed(1)} µs, ` +
      `p99 ${live.p99.toFixed(1)} µs, mean CPU ${live.cpuMicros.toFixed(1)} µs ` +
      `over ${ITERATIONS} statements ` +
      `(${live.allowed} allowed; target median <= 20 µs)`,
  );

  engine.setShadow(await load());
  await measure(engine, Math.min(ITERATIONS, 5000), 100);
  await engine.shadowIdle();
  const before = engine.shadowStats();
  const started = process.hrtime.bigint();
  const shadowed = await measure(engine, ITERATIONS, 100);
  await engine.shadowIdle();
  const totalMs = Number(process.hrtime.bigint() - started) / 1e6;
  const after = engine.shadowStats();
  const evaluated = after.evaluated - before.evaluated;
  const dropped = after.dropped - before.dropped;
  console.log(
    `decide with a shadow candidate: median ${shadowed.median.toFixed(1)} µs on the ` +
      `statement's path; ${evaluated} shadow evaluations, ${dropped} dropped, ` +
      `${totalMs.toFixed(0)} ms in all`,
  );
} finally {
  await rm(out, { recursive: true, force: true });
}
