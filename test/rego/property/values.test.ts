import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compareNumbers, normalizeNumber } from '../../../src/rego/testing/number.js';
import { parseJson, parseRegoValue } from '../../../src/rego/testing/parse.js';
import {
  compareValues,
  formatValue,
  toJsonText,
  valuesEqual,
} from '../../../src/rego/testing/value.js';
import { jsonValue, number, regoValue } from './arbitraries.js';

// `|| 0` folds -0 into 0, which toBe tells apart.
const sign = (n: number): number => Math.sign(n) || 0;

describe('value model (harness side)', () => {
  it('orders values totally: antisymmetric and transitive', () => {
    fc.assert(
      fc.property(regoValue, regoValue, regoValue, (a, b, c) => {
        expect(sign(compareValues(a, b)) + sign(compareValues(b, a))).toBe(0);
        if (compareValues(a, b) <= 0 && compareValues(b, c) <= 0) {
          expect(compareValues(a, c)).toBeLessThanOrEqual(0);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('follows the type order null < boolean < number < string < array < object < set', () => {
    const ranked = ['null', 'false', '0', '""', '[]', '{}', 'set()'].map(parseRegoValue);
    for (let i = 1; i < ranked.length; i++) {
      expect(compareValues(ranked[i - 1]!, ranked[i]!)).toBeLessThan(0);
    }
  });

  it('normalizes numbers without changing their value', () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (d) => {
        const text = String(d).replace('+', '');
        expect(compareNumbers(normalizeNumber(text), text)).toBe(0);
        expect(normalizeNumber(normalizeNumber(text))).toBe(normalizeNumber(text));
      }),
    );
    expect(normalizeNumber('1.50e2')).toBe('150');
    expect(normalizeNumber('-0.0')).toBe('0');
    expect(compareNumbers('12345678901234567891', '12345678901234567890')).toBe(1);
    expect(compareNumbers('1e400', '-1e400')).toBe(1);
  });

  it('reads back what it writes (Rego text and JSON)', () => {
    fc.assert(
      fc.property(regoValue, (v) => {
        expect(valuesEqual(parseRegoValue(formatValue(v)), v)).toBe(true);
      }),
    );
    fc.assert(
      fc.property(jsonValue, (v) => {
        expect(valuesEqual(parseJson(toJsonText(v)), v)).toBe(true);
      }),
    );
  });

  it('compares numbers as JavaScript does where float64 is exact', () => {
    fc.assert(
      fc.property(fc.integer(), fc.integer(), (a, b) => {
        expect(sign(compareNumbers(String(a), String(b)))).toBe(sign(a - b));
      }),
    );
    fc.assert(
      fc.property(number, (n) => {
        expect(compareValues(n, n)).toBe(0);
      }),
    );
  });
});
