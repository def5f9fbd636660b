import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { evaluateText } from '../../../src/rego/load.js';
import { compileAndLoad } from './helpers.js';

describe('documents through a compiled policy', () => {
  it('returns input unchanged and compares it equal to itself (property)', async () => {
    const p = await compileAndLoad(
      `package rt
import rego.v1
echo := input
same if input == json.unmarshal(json.marshal(input))
`,
      ['rt/echo', 'rt/same'],
    );
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 4 }), (value) => {
        // -0 has no JSON text of its own; JSON.stringify writes it as 0.
        const text = JSON.stringify(value);
        const out = evaluateText(p, text, 'rt/echo');
        expect(JSON.parse(out)).toEqual([{ result: JSON.parse(text) }]);
        // (The SDK's evaluate() drops falsy inputs such as null; the text path keeps them.)
        expect(evaluateText(p, text, 'rt/same')).toBe('[{"result":true}]');
      }),
      { numRuns: 200 },
    );
  });
});
