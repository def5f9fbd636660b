/**
 * Exact arithmetic for numbers the module cannot handle in 64-bit integers: big integers and
 * decimals, computed on decimal text with BigInt, as OPA computes with arbitrary precision. The
 * module calls it as `pgwarden.numbers.arith(op, a, b)` with the operands' exact text and reads
 * the result as raw JSON text, so no digit passes through a double.
 */
import { rawJson } from './exact.js';
import type { HostBuiltin } from './types.js';

/** A decimal: `m * 10^-s`. */
interface Dec {
  m: bigint;
  s: number;
}

const NUMBER = /^(-?)(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/;

/** Parses JSON number text exactly; undefined for anything else. */
export function parseDec(text: unknown): Dec | undefined {
  if (typeof text !== 'string') return undefined;
  const m = NUMBER.exec(text);
  if (!m) return undefined;
  const [, sign = '', int = '', frac = '', exp = '0'] = m;
  const e = Number(exp);
  if (!Number.isSafeInteger(e) || Math.abs(e) > 10000) return undefined;
  let mant = BigInt(int + frac);
  let scale = frac.length - e;
  if (scale < 0) {
    mant *= 10n ** BigInt(-scale);
    scale = 0;
  }
  return { m: sign === '-' ? -mant : mant, s: scale };
}

function align(a: Dec, b: Dec): [bigint, bigint, number] {
  const s = Math.max(a.s, b.s);
  return [a.m * 10n ** BigInt(s - a.s), b.m * 10n ** BigInt(s - b.s), s];
}

/** Decimal text without exponent, trailing fraction zeros removed. */
export function formatDec(d: Dec): string {
  let { m, s } = d;
  while (s > 0 && m % 10n === 0n) {
    m /= 10n;
    s--;
  }
  if (s === 0) return m.toString();
  const neg = m < 0n;
  const digits = (neg ? -m : m).toString().padStart(s + 1, '0');
  return `${neg ? '-' : ''}${digits.slice(0, -s)}.${digits.slice(-s)}`;
}

/** a / b as a terminating decimal when it is one (within 40 digits), else undefined. */
function exactQuotient(a: Dec, b: Dec): Dec | undefined {
  const [x, y] = align(a, b);
  for (let k = 0; k <= 40; k++) {
    const num = x * 10n ** BigInt(k);
    if (num % y === 0n) return { m: num / y, s: k };
  }
  return undefined;
}

function roundDec(d: Dec, mode: 'r' | 'c' | 'f'): Dec {
  if (d.s === 0) return d;
  const unit = 10n ** BigInt(d.s);
  let q = d.m / unit; // truncated toward zero
  const r = d.m % unit;
  if (r === 0n) return { m: q, s: 0 };
  if (mode === 'f' && d.m < 0n) q -= 1n;
  else if (mode === 'c' && d.m > 0n) q += 1n;
  else if (mode === 'r') {
    // Half away from zero, as Go's math.Round.
    const twice = (r < 0n ? -r : r) * 2n;
    if (twice >= unit) q += d.m < 0n ? -1n : 1n;
  }
  return { m: q, s: 0 };
}

function compute(op: string, a: Dec, b: Dec): Dec | string | undefined {
  switch (op) {
    case '+': {
      const [x, y, s] = align(a, b);
      return { m: x + y, s };
    }
    case '-': {
      const [x, y, s] = align(a, b);
      return { m: x - y, s };
    }
    case '*':
      return { m: a.m * b.m, s: a.s + b.s };
    case '/': {
      if (b.m === 0n) return undefined;
      const q = exactQuotient(a, b);
      if (q) return q;
      // A repeating decimal: OPA prints such quotients as the nearest double.
      return String(Number(formatDec(a)) / Number(formatDec(b)));
    }
    case '%': {
      if (a.s !== 0 || b.s !== 0 || b.m === 0n) {
        const na = roundDec(a, 'f');
        const nb = roundDec(b, 'f');
        if (na.m * 10n ** BigInt(a.s) !== a.m || nb.m * 10n ** BigInt(b.s) !== b.m)
          return undefined;
        if (nb.m === 0n) return undefined;
        return { m: na.m % nb.m, s: 0 };
      }
      return { m: a.m % b.m, s: 0 };
    }
    case 'r':
    case 'c':
    case 'f':
      return roundDec(a, op);
    default:
      return undefined;
  }
}

/** Internal builtin: exact `op` over two numbers given as decimal text. */
export const arith: HostBuiltin = (op, a, b) => {
  const x = parseDec(a);
  const y = parseDec(b);
  if (typeof op !== 'string' || !x || !y) return undefined;
  const r = compute(op, x, y);
  if (r === undefined) return undefined;
  return rawJson(typeof r === 'string' ? r : formatDec(r));
};
