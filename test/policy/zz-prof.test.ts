import { it } from 'vitest';
import { buildBundle, hostBuiltins } from '../../src/rego/index.js';
import { loadBundleArchive, PolicyEngine } from '../../src/policy/index.js';
import { sampleInput } from './support.js';
function stats(name: string, ts: number[]) {
  ts.sort((x, y) => x - y);
  const N = ts.length;
  console.log(name, 'median', (ts[N / 2]! * 1000).toFixed(1), 'p90', (ts[Math.floor(N * 0.9)]! * 1000).toFixed(1));
}
it('prof', async () => {
  const a = await buildBundle({ paths: ['rego'], entrypoints: ['pgwarden/decision'] });
  const b = await loadBundleArchive(a, { source: 'x', builtins: hostBuiltins() as any });
  const e = new PolicyEngine(); e.swap(b);
  const input = sampleInput();
  const N = 20000;
  for (let round = 0; round < 2; round++) {
    const t1: number[] = [];
    for (let i = 0; i < N; i++) { const s = performance.now(); b.evaluate(input); t1.push(performance.now() - s); }
    stats('fast evaluate', t1);
    const t2: number[] = [];
    for (let i = 0; i < N; i++) { const s = performance.now(); e.decide(input); t2.push(performance.now() - s); }
    stats('decide', t2);
  }
  console.log(JSON.stringify(b.evaluate(input)));
});
