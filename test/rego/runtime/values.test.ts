import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { runtimeHarness } from './harness.js';

const rt = runtimeHarness();

describe('runtime JSON', () => {
  it('round-trips documents, sorting object keys', () => {
    const v = rt.parse(
      '{"b": [1, -2, 3.5, "x\\n\\u00e9\\ud83d\\ude00"], "a": {"z": null, "y": true}}',
    );
    expect(rt.dump(v)).toBe('{"a":{"y":true,"z":null},"b":[1,-2,3.5,"x\\né😀"]}');
  });

  it('keeps big integers and decimals as their exact text', () => {
    const v = rt.parse('[12345678901234567890123, 1e400, 0.1, -9223372036854775808]');
    expect(rt.dump(v)).toBe('[12345678901234567890123,1e400,0.1,-9223372036854775808]');
  });

  it('rejects malformed JSON with 0', () => {
    for (const bad of ['{', '[1,]', '{"a" 1}', 'tru', '"abc', '01x', '{1: 2}']) {
      expect(rt.parse(bad)).toBe(0);
    }
  });

  it('reads and writes Rego value syntax with sets', () => {
    const v = rt.parse('{"s": {3, 1, 2}, "e": set(), "o": {1: "x"}}', true);
    expect(rt.dump(v, true)).toBe('{"e":set(),"o":{1:"x"},"s":{1,2,3}}');
    expect(rt.dump(v)).toBe('{"e":[],"o":{"1":"x"},"s":[1,2,3]}');
  });

  it('round-trips arbitrary JSON (property)', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 4 }), (value) => {
        rt.reset();
        const text = JSON.stringify(value);
        const parsed = rt.parse(text);
        expect(parsed).not.toBe(0);
        expect(JSON.parse(rt.dump(parsed))).toEqual(JSON.parse(text));
      }),
      { numRuns: 300 },
    );
  });
});

describe('runtime ordering and equality', () => {
  const cmp = (a: string, b: string): number => {
    rt.reset();
    return Math.sign(rt.fn('rt_value_compare')(rt.parse(a, true), rt.parse(b, true)));
  };

  it("follows OPA's type order", () => {
    const ordered = [
      'null',
      'false',
      'true',
      '-1',
      '0',
      '2.5',
      '3',
      '"a"',
      '"b"',
      '[]',
      '[1]',
      '{}',
      '{"a":1}',
      'set()',
      '{1}',
    ];
    for (let i = 0; i + 1 < ordered.length; i++) {
      expect(cmp(ordered[i]!, ordered[i + 1]!)).toBe(-1);
      expect(cmp(ordered[i + 1]!, ordered[i]!)).toBe(1);
    }
  });

  it('treats 1 and 1.0 as equal and compares big integers exactly', () => {
    expect(cmp('1', '1.0')).toBe(0);
    expect(cmp('100000000000000000001', '100000000000000000000')).toBe(1);
    expect(cmp('-100000000000000000001', '5')).toBe(-1);
    expect(cmp('{"b":1,"a":2}', '{"a":2,"b":1}')).toBe(0);
    expect(cmp('{3,1,2}', '{1,2,3}')).toBe(0);
  });

  it('is antisymmetric and consistent with equality (property)', () => {
    const arb = fc.jsonValue({ maxDepth: 3 });
    fc.assert(
      fc.property(arb, arb, (a, b) => {
        rt.reset();
        const x = rt.parse(JSON.stringify(a));
        const y = rt.parse(JSON.stringify(b));
        const c1 = Math.sign(rt.fn('rt_value_compare')(x, y));
        const c2 = Math.sign(rt.fn('rt_value_compare')(y, x));
        expect(c1 + c2).toBe(0);
        expect(rt.fn('rt_value_equal')(x, y) === 1).toBe(c1 === 0);
      }),
      { numRuns: 300 },
    );
  });

  it('finds keys in large objects through the hash index', () => {
    rt.reset();
    const obj: Record<string, number> = {};
    for (let i = 0; i < 500; i++) obj[`k${i}`] = i;
    const v = rt.parse(JSON.stringify(obj));
    for (const i of [0, 9, 250, 499]) {
      expect(rt.dump(rt.fn('rt_dot')(v, rt.str(`k${i}`)))).toBe(String(i));
    }
    expect(rt.fn('rt_dot')(v, rt.str('missing'))).toBe(0);
  });
});
