/**
 * Exact decimal numbers as text. Rego numbers are arbitrary-precision (OPA keeps big integers
 * and decimals as written), so results are compared by value on their decimal text, never
 * through float64: `1.0` equals `1`, and `12345678901234567890123` stays exact.
 */
import { PgwardenError } from '../../errors.js';

const NUMBER_RE = /^(-?)(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/;

/** Beyond this many digits a number is written in exponent form. */
const PLAIN_LIMIT = 40;

interface Decimal {
  negative: boolean;
  /** Significant digits without leading or trailing zeros; empty for zero. */
  digits: string;
  /** The value is digits * 10^exponent. */
  exponent: number;
}

function parseDecimal(text: string): Decimal {
  const m = NUMBER_RE.exec(text.trim());
  if (!m) throw new PgwardenError('ERR_INTERNAL', `not a JSON number: ${text}`);
  const [, sign = '', int = '', frac = '', exp = '0'] = m;
  let digits = (int + frac).replace(/^0+/, '');
  let exponent = Number(exp) - frac.length;
  const trailing = /0*$/.exec(digits)?.[0].length ?? 0;
  if (trailing > 0) {
    digits = digits.slice(0, digits.length - trailing);
    exponent += trailing;
  }
  if (digits === '') return { negative: false, digits: '', exponent: 0 };
  return { negative: sign === '-', digits, exponent };
}

/**
 * The canonical text of a JSON number: no leading/trailing zeros, `-0` is `0`, exponent form
 * only when the plain form would be very long. The result is valid JSON number syntax.
 */
export function normalizeNumber(text: string): string {
  const d = parseDecimal(text);
  if (d.digits === '') return '0';
  const sign = d.negative ? '-' : '';
  const len = d.digits.length;
  if (d.exponent >= 0 && len + d.exponent <= PLAIN_LIMIT) {
    return sign + d.digits + '0'.repeat(d.exponent);
  }
  if (d.exponent < 0 && -d.exponent <= PLAIN_LIMIT) {
    const point = len + d.exponent;
    if (point > 0) return `${sign}${d.digits.slice(0, point)}.${d.digits.slice(point)}`;
    return `${sign}0.${'0'.repeat(-point)}${d.digits}`;
  }
  const mantissa = len === 1 ? d.digits : `${d.digits[0]}.${d.digits.slice(1)}`;
  return `${sign}${mantissa}e${d.exponent + len - 1}`;
}

/** True when `text` is JSON number syntax. */
export function isNumberText(text: string): boolean {
  return NUMBER_RE.test(text);
}

/** Compares two JSON number texts by exact value: -1, 0 or 1. */
export function compareNumbers(a: string, b: string): number {
  if (a === b) return 0;
  const x = parseDecimal(a);
  const y = parseDecimal(b);
  const sx = x.digits === '' ? 0 : x.negative ? -1 : 1;
  const sy = y.digits === '' ? 0 : y.negative ? -1 : 1;
  if (sx !== sy) return sx < sy ? -1 : 1;
  if (sx === 0) return 0;
  const c = compareMagnitudes(x, y);
  return c === 0 ? 0 : sx * c;
}

function compareMagnitudes(x: Decimal, y: Decimal): number {
  // Order of magnitude first: it settles most comparisons without big arithmetic.
  const mx = x.digits.length + x.exponent;
  const my = y.digits.length + y.exponent;
  if (mx !== my) return mx < my ? -1 : 1;
  const shift = x.exponent - y.exponent;
  const bx = BigInt(x.digits) * (shift > 0 ? 10n ** BigInt(shift) : 1n);
  const by = BigInt(y.digits) * (shift < 0 ? 10n ** BigInt(-shift) : 1n);
  return bx === by ? 0 : bx < by ? -1 : 1;
}
