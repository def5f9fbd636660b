#!/usr/bin/env node
// Masking benchmark. Compiles src with tsc into a temporary package folder (so it measures the
// source as it is, not a stale dist/), then measures through the demo gateway:
//  1. relay cost: a 100,000-row result with two masked columns (cards.pan by pan_last4 and
//     holders.email by email) against the same result shape from copies of those tables that
//     nothing masks (their card numbers fail Luhn, so the backstop, which scans every value of
//     an identity with masks, finds nothing). Target: masked <= 1.3 x unmasked. PostgreSQL
//     directly is shown for reference.
//  2. the card-number detector's false-positive rate on numeric text that is not card numbers:
//     timestamps, order numbers, phone numbers, amounts, and random digit runs.
// Usage: node bench/masking.mjs [--rounds N] [--samples N]
// Prints a table for people, then, as its last line, one JSON object for scripts.
import { execFileSync } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readFile, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const arg = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const ROUNDS = arg('rounds', 5);
const SAMPLES = arg('samples', 20000);
const ROWS = 100_000;

/** Compiles src into <tmp>/dist beside links to rego/, package.json and node_modules. */
async function compile() {
  const pkg = await mkdtemp(join(tmpdir(), 'pgw-masking-bench-'));
  const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  const project = join(root, 'tsconfig.json');
  const out = join(pkg, 'dist');
  try {
    execFileSync(process.execPath, [tsc, '-p', project, '--outDir', out, '--sourceMap', 'false']);
  } catch {
    // Type errors in files being edited elsewhere do not stop tsc from emitting JavaScript.
  }
  for (const name of ['rego', 'package.json', 'node_modules']) {
    await symlink(join(root, name), join(pkg, name));
  }
  await mkdir(out, { recursive: true });
  await copyFile(join(root, 'dist', 'rego-runtime.wasm'), join(out, 'rego-runtime.wasm')).catch(
    () => undefined, // the runtime is then built on first use
  );
  return pkg;
}

const SETUP = `
INSERT INTO cards (holder_id, pan, brand, expires)
  SELECT 1 + g % 10, (SELECT array_agg(pan ORDER BY id) FROM cards)[1 + g % 10], 'visa',
         '2030-01-31'
  FROM generate_series(1, ${ROWS} - (SELECT count(*) FROM cards)) AS g;
CREATE TABLE plain_cards AS
  SELECT id, holder_id,
         left(pan, -1) || ((right(pan, 1)::int + 1) % 10)::text AS pan, brand, expires
  FROM cards;
CREATE TABLE plain_holders AS SELECT * FROM holders;
GRANT SELECT ON plain_cards, plain_holders TO pgwarden_gateway;
ANALYZE;
`;
const MASKED = `SELECT c.id, c.pan, h.email, c.brand FROM cards c
  JOIN holders h ON h.id = c.holder_id WHERE c.id > 0`;
const PLAIN = `SELECT c.id, c.pan, h.email, c.brand FROM plain_cards c
  JOIN plain_holders h ON h.id = c.holder_id WHERE c.id > 0`;

async function relay(pkg) {
  const { startDemo } = await import(join(pkg, 'dist/cli/demo/run.js'));
  const { silentLogger } = await import(join(pkg, 'dist/logger.js'));
  const { default: pg } = await import('pg');
  const state = await mkdtemp(join(tmpdir(), 'pgw-masking-demo-'));
  const demo = await startDemo({
    stateDir: state,
    gatewayPort: 0,
    httpPort: 0,
    logger: silentLogger,
    auditDurability: 'batched',
  });
  try {
    const { host, port, user, password } = demo.postgres;
    const direct = new pg.Client({ host, port, user, password, database: 'payments' });
    await direct.connect();
    await direct.query(SETUP);
    const gateway = new pg.Client({
      host: demo.info.gateway.host,
      port: demo.info.gateway.port,
      database: 'payments',
      user: 'etl',
      password: await readFile(demo.info.identities.etl.token_file, 'utf8'),
    });
    await gateway.connect();
    const time = async (client, text) => {
      const start = process.hrtime.bigint();
      const res = await client.query({ text, rowMode: 'array' });
      const ms = Number(process.hrtime.bigint() - start) / 1e6;
      return { ms, rows: res.rows.length, sample: res.rows[0] };
    };
    // Warm-up: catalog caches, JIT, the analyzer's cache.
    await time(gateway, MASKED);
    await time(gateway, PLAIN);
    const runs = { masked: [], plain: [], direct: [], directPlain: [] };
    let sample;
    for (let r = 0; r < ROUNDS; r++) {
      const m = await time(gateway, MASKED);
      if (m.rows !== ROWS) throw new Error(`expected ${ROWS} rows, got ${m.rows}`);
      sample = m.sample;
      runs.masked.push(m.ms);
      runs.plain.push((await time(gateway, PLAIN)).ms);
      runs.direct.push((await time(direct, MASKED)).ms);
      runs.directPlain.push((await time(direct, PLAIN)).ms);
    }
    await gateway.end();
    await direct.end();
    return { runs, sample };
  } finally {
    await demo.stop();
    await rm(state, { recursive: true, force: true });
  }
}

/** Deterministic pseudo-random numbers, so every run measures the same texts. */
function rng(seed) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function falsePositives(detect) {
  const rand = rng(42);
  const int = (n) => Math.floor(rand() * n);
  const digits = (n) => Array.from({ length: n }, () => int(10)).join('');
  const pad = (v, n) => String(v).padStart(n, '0');
  const start = Date.UTC(2000, 0, 1);
  const when = () => new Date(start + int(30 * 365 * 86_400_000));
  const categories = {
    'ISO timestamps with µs': () =>
      when()
        .toISOString()
        .replace('Z', pad(int(1000), 3)),
    'epoch ms and µs': () => String(when().getTime() * (rand() < 0.5 ? 1 : 1000)),
    'compact timestamps': () => when().toISOString().replace(/\D/g, '').slice(0, 17),
    'order numbers': () => `ORD-${pad(int(1e6), 6)}-${digits(8)}`,
    'invoice numbers (13-16 digits)': () => `${1 + int(9)}${digits(12 + int(4))}`.slice(0, 16),
    'phone numbers (E.164 and local)': () =>
      rand() < 0.5
        ? `+${1 + int(98)} ${digits(3)} ${digits(3)} ${digits(4)}`
        : `(${digits(3)}) ${digits(3)}-${digits(4)}`,
    amounts: () => `${int(1e7)}.${pad(int(100), 2)} EUR, ${int(1e9)},${pad(int(100), 2)}`,
    'random runs, 13-19 digits': () => digits(13 + int(7)),
    'random runs, 20-40 digits': () => digits(20 + int(21)),
    'UUIDs and hex digests': () => crypto.randomUUID() + ' ' + digits(8),
  };
  const results = {};
  for (const [name, make] of Object.entries(categories)) {
    let hits = 0;
    for (let i = 0; i < SAMPLES; i++) {
      const text = make();
      if (detect.findCardNumbers(text).length > 0) hits++;
    }
    results[name] = hits / SAMPLES;
  }
  return results;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const pkg = await compile();
try {
  const detect = await import(join(pkg, 'dist/masking/detect.js'));
  const fp = falsePositives(detect);
  const { runs, sample } = await relay(pkg);
  const m = median(runs.masked);
  const p = median(runs.plain);
  const d = median(runs.direct);
  const dp = median(runs.directPlain);
  const ratio = m / p;
  console.log(`relay of ${ROWS} rows x 4 columns, median of ${ROUNDS} rounds`);
  console.log(`  PostgreSQL directly, plain   ${dp.toFixed(0).padStart(7)} ms`);
  console.log(`  PostgreSQL directly, cards   ${d.toFixed(0).padStart(7)} ms`);
  console.log(`  gateway, nothing masked      ${p.toFixed(0).padStart(7)} ms`);
  console.log(`  gateway, 2 columns masked    ${m.toFixed(0).padStart(7)} ms`);
  console.log(`  masked / unmasked            ${ratio.toFixed(2).padStart(7)} x  (target <= 1.30)`);
  console.log(`  first masked row: ${JSON.stringify(sample)}`);
  console.log(`detector false-positive rate, ${SAMPLES} texts per category`);
  for (const [name, rate] of Object.entries(fp)) {
    console.log(`  ${name.padEnd(34)} ${(rate * 100).toFixed(2).padStart(6)} %`);
  }
  console.log(
    JSON.stringify({
      rows: ROWS,
      rounds: ROUNDS,
      ms: { direct: d, directPlain: dp, plain: p, masked: m },
      ratio,
      fp,
    }),
  );
} finally {
  await rm(pkg, { recursive: true, force: true });
}
