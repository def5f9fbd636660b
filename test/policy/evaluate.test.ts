import { loadPolicy } from '@open-policy-agent/opa-wasm';
import { beforeAll, describe, expect, it } from 'vitest';
import { bundleData, encodeInput, unpackBundle, type BundleFiles } from '../../src/policy/index.js';
import { entrypointEvaluator } from '../../src/policy/evaluate.js';
import { buildBundle, hostBuiltins } from '../../src/rego/index.js';
import { policyDir, sampleInput } from './support.js';

const ECHO = `package pgwarden

import rego.v1

decision := {"allow": true, "reasons": [input.statement.text], "mask": {}, "approval": null}
`;

async function load(files: BundleFiles) {
  const policy = await loadPolicy(files.get('policy.wasm')!, undefined, hostBuiltins());
  policy.setData(bundleData(files));
  return policy;
}

describe('entrypoint evaluation', () => {
  let files: BundleFiles;

  beforeAll(async () => {
    const dir = await policyDir({ name: 'echo' }, ECHO);
    files = await unpackBundle(
      await buildBundle({ paths: [dir], entrypoints: ['pgwarden/decision'] }),
    );
  });

  it('gives the SDK result through the ABI 1.2 fast path and the ABI 1.1 calls alike', async () => {
    const fast = await load(files);
    expect(fast.minorVersion).toBeGreaterThanOrEqual(2);
    const slow = await load(files);
    // Pretending to be an older module makes the evaluator use the SDK's opa_eval_ctx path.
    (slow as { minorVersion: number }).minorVersion = 1;
    const input = sampleInput({ text: 'SELECT \u00e9 \u{1F600}' });
    const expected = fast.evaluate(input, 0) as unknown;
    expect(entrypointEvaluator(fast, 0)(input)).toEqual(expected);
    expect(entrypointEvaluator(slow, 0)(input)).toEqual(expected);
    expect(entrypointEvaluator(fast, 0)(encodeInput(input))).toEqual(expected);
    expect(entrypointEvaluator(slow, 0)(encodeInput(input))).toEqual(expected);
  });

  it('grows the module memory for an input larger than it', async () => {
    const policy = await load(files);
    const before = policy.mem.buffer.byteLength;
    const text = 'x'.repeat(before * 2);
    const evaluate = entrypointEvaluator(policy, 0);
    const result = evaluate(sampleInput({ text })) as Array<{ result: { reasons: string[] } }>;
    expect(result[0]!.result.reasons[0]).toHaveLength(text.length);
    expect(policy.mem.buffer.byteLength).toBeGreaterThan(before);
    // Later, smaller inputs still evaluate correctly on the grown memory.
    const small = evaluate(sampleInput({ text: 'SELECT 1' })) as typeof result;
    expect(small[0]!.result.reasons).toEqual(['SELECT 1']);
  });
});
