/** fast-check generators of Rego values for the property tests. */
import fc from 'fast-check';
import {
  arr,
  bool,
  NULL,
  num,
  obj,
  set,
  str,
  type RValue,
} from '../../../src/rego/testing/value.js';

/** Integers, including far beyond 2^53 and 2^64. */
export const bigInteger = fc
  .bigInt({ min: -(2n ** 100n), max: 2n ** 100n })
  .map((b) => num(b.toString()));

/** Decimals with at most 15 significant digits (exact in float64 and in OPA). */
export const decimal = fc
  .tuple(fc.integer({ min: -99999999, max: 99999999 }), fc.integer({ min: 0, max: 9999999 }))
  .map(([i, f]) => num(`${i}.${String(f).padStart(7, '0')}`));

/** Any number the tests use. */
export const number = fc.oneof(
  fc.integer({ min: -1000, max: 1000 }).map((n) => num(n)),
  fc.integer().map((n) => num(n)),
  bigInteger,
  decimal,
);

/** Strings over all of Unicode, with JSON escapes and astral characters. */
export const string = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 12 }),
  fc.constantFrom('', '"', '\\', '\n\t\u0000\u001f', 'é', '😀', 'a\u2028b', '</script>'),
);

/** JSON values (no sets, string keys), depth-limited. */
export const jsonValue: fc.Arbitrary<RValue> = fc.letrec<{ v: RValue }>((tie) => ({
  v: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constant(NULL),
    fc.boolean().map(bool),
    number,
    string.map(str),
    fc.array(tie('v'), { maxLength: 4 }).map(arr),
    fc
      .array(fc.tuple(string, tie('v')), { maxLength: 4 })
      .map((es) => obj(es.map(([k, x]) => [str(k), x] as const))),
  ),
})).v;

/** Rego values including sets and non-string keys. */
export const regoValue: fc.Arbitrary<RValue> = fc.letrec<{ v: RValue }>((tie) => ({
  v: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constant(NULL),
    fc.boolean().map(bool),
    number,
    string.map(str),
    fc.array(tie('v'), { maxLength: 3 }).map(arr),
    fc.array(tie('v'), { maxLength: 3 }).map(set),
    fc.array(fc.tuple(tie('v'), tie('v')), { maxLength: 3 }).map(obj),
  ),
})).v;
