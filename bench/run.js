// `npm run bench`: every benchmark of the project from one run, summed up in one table.
// Runs, one after another so they do not compete for the CPU: the shipped policy's compile time
// (measured here), bench/pgbench.js (pgbench -S: direct, PgBouncer, pgwarden as a relay, pgwarden),
// bench/policy.mjs (decision latency), bench/audit.mjs (audit append cost and throughput) and
// bench/masking.mjs when present. Each script's own output goes to stderr as it runs; the
// combined table, with the machine it ran on, goes to stdout. See bench/README.md.
//
//   npm run bench                     (BENCH_SECONDS, BENCH_ROUNDS, BENCH_CLIENTS: pgbench.js)
//   BENCH_ONLY=policy,audit npm run bench
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');
const only = process.env.BENCH_ONLY?.split(',').map((s) => s.trim());
const wanted = (name) => !only || only.includes(name);

/** Rows of the final table: [benchmark, measure, value]. */
const rows = [];
const failures = [];

if (wanted('compile')) await compileFigures();
for (const [name, file, parse] of [
  ['pgbench', 'pgbench.js', parsePgbench],
  ['policy', 'policy.mjs', parsePolicy],
  ['audit', 'audit.mjs', parseAudit],
  ['masking', 'masking.mjs', parseMasking],
]) {
  const script = path.join(here, file);
  if (!wanted(name) || !existsSync(script)) continue;
  const started = Date.now();
  const result = await runScript(script);
  const seconds = ((Date.now() - started) / 1000).toFixed(0);
  if (result.code !== 0) {
    failures.push(`${file} exited with ${result.code}`);
    rows.push([name, 'failed', `exit ${result.code} after ${seconds}s`]);
    continue;
  }
  const parsed = parse(result.stdout);
  rows.push(...(parsed.length > 0 ? parsed : parseGeneric(result.stdout)).map((r) => [name, ...r]));
}

process.stdout.write(`\n${await machine()}\n\n${table(['benchmark', 'measure', 'value'], rows)}\n`);
if (failures.length > 0) {
  process.stderr.write(`failed: ${failures.join('; ')}\n`);
  process.exitCode = 1;
}

/** Builds the shipped policy (rego/) with the project's compiler a few times; median time. */
async function compileFigures() {
  const dist = path.join(root, 'dist', 'rego', 'index.js');
  if (!existsSync(dist)) {
    rows.push(['compile', 'shipped policy bundle', 'skipped: run npm run build first']);
    return;
  }
  const { buildBundle } = await import(dist);
  const times = [];
  let size = 0;
  for (let i = 0; i < 5; i++) {
    const started = process.hrtime.bigint();
    const bundle = await buildBundle({
      paths: [path.join(root, 'rego')],
      entrypoints: ['pgwarden/decision'],
      revision: 'bench',
    });
    times.push(Number(process.hrtime.bigint() - started) / 1e6);
    size = bundle.length;
  }
  times.sort((a, b) => a - b);
  rows.push(['compile', 'shipped policy -> bundle, median of 5', `${times[2].toFixed(0)} ms`]);
  rows.push(['compile', 'first build (cold)', `${times.at(-1).toFixed(0)} ms`]);
  rows.push(['compile', 'bundle size (gzipped tar)', `${(size / 1024).toFixed(1)} KiB`]);
}

/** Runs a benchmark script; its stdout is kept and echoed to stderr, its stderr passes through. */
function runScript(script) {
  process.stderr.write(`\n== ${path.relative(root, script)}\n`);
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [script], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let stdout = '';
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
      process.stderr.write(chunk);
    });
    child.on('close', (code) => resolve({ code: code ?? 1, stdout }));
  });
}

function parsePgbench(stdout) {
  const last = stdout.trim().split('\n').at(-1) ?? '';
  let summary;
  try {
    summary = JSON.parse(last);
  } catch {
    return [];
  }
  const out = [];
  const header = stdout.split('\n').find((l) => l.startsWith('pgbench -S'));
  if (header) out.push(['setup', header.replace(/^pgbench -S, /, '')]);
  for (const [mode, m] of Object.entries(summary)) {
    const tps = (x) => (x === null || x === undefined ? '-' : `${x}`);
    out.push([
      `${mode}: TPS direct / pgbouncer / relay / pgwarden / pgwarden strict`,
      [m.direct, m.pgbouncer, m.relay, m.pgwarden, m.pgwarden_strict].map(tps).join(' / '),
    ]);
    out.push([
      `${mode}: pgwarden as a share of pgbouncer / relay / direct; strict / batched`,
      [m.ratio_to_pgbouncer, m.ratio_to_relay, m.ratio_to_direct].map(tps).join(' / ') +
        `; ${tps(m.strict_to_batched)}`,
    ]);
  }
  return out;
}

function parsePolicy(stdout) {
  const out = [];
  const live = /decide \(input \+ eval \+ decode\): median ([\d.]+) µs, p99 ([\d.]+) µs/.exec(
    stdout,
  );
  if (live) {
    out.push(['decision latency, median', `${live[1]} µs`]);
    out.push(['decision latency, p99', `${live[2]} µs`]);
  }
  const shadow = /with a shadow candidate: median ([\d.]+) µs/.exec(stdout);
  if (shadow) out.push(['decision with a shadow candidate, median', `${shadow[1]} µs`]);
  return out;
}

function parseAudit(stdout) {
  const out = [];
  const waits = /caller waits: median ([\d.]+) µs, p99 ([\d.]+) µs/.exec(stdout);
  if (waits) out.push(['append, caller waits (median / p99)', `${waits[1]} / ${waits[2]} µs`]);
  const all = /all work incl\. write\+fsync: ([\d.]+) µs wall/.exec(stdout);
  if (all) out.push(['append, all work per triple', `${all[1]} µs`]);
  const batched = /batched (\d+) triples\/s/.exec(stdout);
  const strict = /strict +(\d+) triples\/s/.exec(stdout);
  if (batched) out.push(['throughput, batched', `${batched[1]} triples/s`]);
  if (strict) out.push(['throughput, strict (fsync per write)', `${strict[1]} triples/s`]);
  return out;
}

function parseMasking(stdout) {
  let m;
  try {
    m = JSON.parse(stdout.trim().split('\n').at(-1) ?? '');
  } catch {
    return [];
  }
  if (!m?.ms) return [];
  const ms = (x) => `${Number(x).toFixed(0)} ms`;
  // Keys as the script names them (direct: PostgreSQL alone; plain: through the gateway with
  // nothing masked; masked: with masks), so a key added later still shows.
  const times = Object.entries(m.ms).map(([k, v]) => `${k} ${ms(v)}`);
  const out = [
    [`relay of ${m.rows} rows, median`, times.join(', ')],
    ['masked relay / unmasked relay (target <= 1.3)', Number(m.ratio).toFixed(2)],
  ];
  const fp = Object.entries(m.fp ?? {});
  if (fp.length > 0) {
    const worst = fp.reduce((a, b) => (b[1] > a[1] ? b : a));
    out.push([
      `card detector false positives, worst of ${fp.length} kinds`,
      `${(worst[1] * 100).toFixed(2)} % (${worst[0]})`,
    ]);
  }
  return out;
}

/** A script this runner does not know: a JSON last line, flattened, or its lines as printed. */
function parseGeneric(stdout) {
  const lines = stdout.trim().split('\n').filter(Boolean);
  try {
    const json = JSON.parse(lines.at(-1) ?? '');
    if (json && typeof json === 'object') {
      return flatten(json).map(([k, v]) => [k, String(v)]);
    }
  } catch {
    // Not JSON: fall through to the lines themselves.
  }
  return lines.map((line) => ['output', line.trim()]);
}

function flatten(value, prefix = '') {
  if (value === null || typeof value !== 'object') return [[prefix, value]];
  return Object.entries(value).flatMap(([k, v]) => flatten(v, prefix ? `${prefix}.${k}` : k));
}

function table(header, body) {
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((r) => String(r[i]).length)));
  const line = (cells) => cells.map((c, i) => String(c).padEnd(widths[i])).join('  ');
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n');
}

async function machine() {
  const cpus = os.cpus();
  const exec = promisify(execFile);
  const version = async (cmd, args) =>
    exec(cmd, args)
      .then(({ stdout }) => stdout.trim().split('\n')[0])
      .catch(() => 'not installed');
  return [
    `machine: ${cpus[0]?.model ?? 'unknown CPU'}, ${cpus.length} cores, ` +
      `${(os.totalmem() / 2 ** 30).toFixed(0)} GiB RAM, ${os.type()} ${os.release()}`,
    `node ${process.version}; ${await version('pgbench', ['--version'])}; ` +
      `${await version('pgbouncer', ['--version'])}; ${new Date().toISOString()}`,
  ].join('\n');
}
