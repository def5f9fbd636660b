// `node bench/rego.mjs`: the Rego toolchain's speed (issue 5).
//
// 1. One evaluate() through @open-policy-agent/opa-wasm of a small role-based policy compiled
//    by pgwarden's compiler: the user's roles are looked up in data, the roles' permissions are
//    iterated and each is compared with an object built from the input. Reported: the median
//    (and p90) of single calls, in microseconds, with the load average, because the machine is
//    shared and its noise moves the figure (target <= 3 us; OPA's own build measured 2.65 us).
// 2. Building the project's rego/ into a bundle, compile included (target < 1 s): median of
//    several builds after one warm-up, as `pgwarden build` runs it.
//
// Needs `npm run build` first (it imports dist/). Prints a JSON summary on stdout.
//   BENCH_ROUNDS=200000 node bench/rego.mjs
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildBundle, compileRego, loadCompiledPolicy } from '../dist/rego/index.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const rounds = Number(process.env.BENCH_ROUNDS ?? 100000);

const POLICY = `package rbac
import rego.v1

default allow := false

allow if {
	some role in data.user_roles[input.user]
	some grant in data.role_permissions[role]
	grant == {"action": input.action, "type": input.type}
}
`;

const DATA = {
  user_roles: { alice: ['admin'], bob: ['reader', 'writer'], eve: ['guest'] },
  role_permissions: {
    admin: [
      { action: 'read', type: 'table' },
      { action: 'write', type: 'table' },
      { action: 'drop', type: 'table' },
    ],
    reader: [{ action: 'read', type: 'table' }],
    writer: [{ action: 'write', type: 'table' }],
    guest: [],
  },
};

const INPUT = { user: 'bob', action: 'write', type: 'table' };

function quantile(sorted, q) {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))];
}

async function evaluateLatency() {
  const compiled = compileRego([{ file: 'rbac.rego', text: POLICY }], {
    entrypoints: ['rbac/allow'],
  });
  if (!compiled.ok) throw new Error(compiled.diagnostics.map((d) => d.message).join('\n'));
  const policy = await loadCompiledPolicy(compiled.wasm, DATA);
  const check = policy.evaluate(INPUT, 'rbac/allow');
  if (check?.[0]?.result !== true) throw new Error(`unexpected result ${JSON.stringify(check)}`);
  if (policy.evaluate({ ...INPUT, user: 'eve' }, 'rbac/allow')?.[0]?.result !== false) {
    throw new Error('eve must be denied');
  }
  for (let i = 0; i < 20000; i++) policy.evaluate(INPUT, 'rbac/allow');

  // Batches of 100 calls timed together, so the clock's own cost stays out of the figure.
  const batch = 100;
  const samples = [];
  for (let i = 0; i < rounds / batch; i++) {
    const t0 = process.hrtime.bigint();
    for (let j = 0; j < batch; j++) policy.evaluate(INPUT, 'rbac/allow');
    samples.push(Number(process.hrtime.bigint() - t0) / batch / 1000);
  }
  samples.sort((a, b) => a - b);
  return {
    medianUs: +quantile(samples, 0.5).toFixed(3),
    p90Us: +quantile(samples, 0.9).toFixed(3),
    calls: samples.length * batch,
  };
}

async function bundleTime() {
  const options = { paths: [path.join(root, 'rego')], entrypoints: ['pgwarden/decision'] };
  await buildBundle(options);
  const times = [];
  for (let i = 0; i < 5; i++) {
    const t0 = process.hrtime.bigint();
    await buildBundle(options);
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  times.sort((a, b) => a - b);
  return { medianMs: +quantile(times, 0.5).toFixed(1), maxMs: +times.at(-1).toFixed(1) };
}

const loadBefore = os.loadavg();
const evaluate = await evaluateLatency();
const bundle = await bundleTime();
const summary = {
  evaluate: { ...evaluate, targetUs: 3 },
  bundle: { ...bundle, targetMs: 1000 },
  loadavg: {
    before: loadBefore.map((x) => +x.toFixed(2)),
    after: os.loadavg().map((x) => +x.toFixed(2)),
  },
  cpus: os.cpus().length,
  node: process.version,
};
process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
