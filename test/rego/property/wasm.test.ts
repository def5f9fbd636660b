import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Evaluator } from '../../../src/rego/conformance/execute.js';
import { resultValues } from '../../../src/rego/testing/evaluate.js';
import { loadToolchain } from '../../../src/rego/testing/toolchain.js';
import {
  arr,
  compareValues,
  formatValue,
  sortUnique,
  toJsonText,
  valuesEqual,
  type RValue,
} from '../../../src/rego/testing/value.js';
import { decimal, jsonValue, string } from './arbitraries.js';

// One small policy, compiled once by the project's compiler and run through
// @open-policy-agent/opa-wasm, read back in both result modes.
const POLICY = `package prop

echo := input

from_data := data.d

sorted := sort(input)

as_set := {x | some x in input}

compare := [input[0] < input[1], input[0] == input[1], input[0] > input[1]]

set_sorted := sort([{x | some x in a} | some a in input])
`;

const ENTRYPOINTS = [
  'prop/echo',
  'prop/from_data',
  'prop/sorted',
  'prop/as_set',
  'prop/compare',
  'prop/set_sorted',
];

let json: Evaluator;
let value: Evaluator;

beforeAll(async () => {
  const tools = await loadToolchain('json');
  const out = tools.compile([{ file: 'prop.rego', text: POLICY }], { entrypoints: ENTRYPOINTS });
  expect(out.diagnostics).toEqual([]);
  json = await tools.load(out.wasm as Uint8Array);
  value = await (await loadToolchain('value')).load(out.wasm as Uint8Array);
});

function result(ev: Evaluator, ep: string, input: RValue): RValue | undefined {
  return resultValues(ev.evaluate(ep, toJsonText(input)))[0];
}

const RUNS = { numRuns: 150 };

describe('runtime JSON round trip (compiled Wasm)', () => {
  it('returns any JSON input unchanged, through opa_eval and through opa_value_dump', () => {
    fc.assert(
      fc.property(jsonValue, (v) => {
        const viaJson = result(json, 'prop/echo', v);
        const viaValue = result(value, 'prop/echo', v);
        expect(viaJson && formatValue(viaJson)).toBe(formatValue(v));
        expect(viaValue && formatValue(viaValue)).toBe(formatValue(v));
      }),
      RUNS,
    );
  });

  it('keeps strings exact (escapes, control and astral characters)', () => {
    fc.assert(
      fc.property(
        fc.array(
          string.map((s) => ({ t: 'str', v: s }) as RValue),
          { maxLength: 5 },
        ),
        (xs) => {
          const v = arr(xs);
          expect(formatValue(result(json, 'prop/echo', v) as RValue)).toBe(formatValue(v));
        },
      ),
      RUNS,
    );
  });

  it('keeps decimals exact', () => {
    fc.assert(
      fc.property(decimal, (d) => {
        expect(formatValue(result(json, 'prop/echo', d) as RValue)).toBe(formatValue(d));
      }),
      RUNS,
    );
  });

  it('loads data losslessly', () => {
    fc.assert(
      fc.property(jsonValue, (v) => {
        json.setData(`{"d": ${toJsonText(v)}}`);
        const [got] = resultValues(json.evaluate('prop/from_data', undefined));
        expect(got && formatValue(got)).toBe(formatValue(v));
      }),
      { numRuns: 60 },
    );
  });
});

describe('runtime value ordering (compiled Wasm)', () => {
  const list = fc.array(jsonValue, { maxLength: 6 }).map(arr);

  // Regression: the runtime once made sort([]) undefined (found by the property below).
  it('sort([]) is []', () => {
    expect(result(json, 'prop/sorted', arr([]))).toEqual(arr([]));
  });

  it('sort() orders by OPA total order', () => {
    fc.assert(
      fc.property(list, (xs) => {
        const want = arr([...(xs.t === 'arr' ? xs.v : [])].sort(compareValues));
        const got = result(json, 'prop/sorted', xs) as RValue;
        expect(valuesEqual(got, want), `${formatValue(got)} vs ${formatValue(want)}`).toBe(true);
      }),
      RUNS,
    );
  });

  it('sets deduplicate by value and dump their elements in sorted order', () => {
    fc.assert(
      fc.property(list, (xs) => {
        const want = sortUnique(xs.t === 'arr' ? xs.v : []);
        // JSON mode: the set arrives as an array in the module's own order.
        const got = result(json, 'prop/as_set', xs) as RValue;
        expect(formatValue(got)).toBe(formatValue(arr(want)));
      }),
      RUNS,
    );
  });

  it('<, == and > agree with the total order', () => {
    fc.assert(
      fc.property(jsonValue, jsonValue, (a, b) => {
        const c = compareValues(a, b);
        const got = result(json, 'prop/compare', arr([a, b]));
        expect(got && formatValue(got)).toBe(`[${c < 0}, ${c === 0}, ${c > 0}]`);
      }),
      RUNS,
    );
  });

  it('orders sets among themselves', () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(jsonValue, { maxLength: 3 }).map(arr), { maxLength: 4 }),
        (xss) => {
          const sets = xss.map(
            (xs) => ({ t: 'set', v: sortUnique(xs.t === 'arr' ? xs.v : []) }) as RValue,
          );
          const want = arr([...sets].sort(compareValues));
          const got = result(value, 'prop/set_sorted', arr(xss)) as RValue;
          expect(formatValue(got)).toBe(formatValue(want));
        },
      ),
      RUNS,
    );
  });
});
