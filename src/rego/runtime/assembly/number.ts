// Numbers: 64-bit integers on the fast path, doubles for non-integral arithmetic results, and
// number refs (decimal text) for what JSON or a literal gave that does not fit 64 bits. Refs keep
// their exact text through parse and dump, so a big integer survives a round trip unchanged;
// arithmetic on them goes through doubles (OPA would use arbitrary precision there).

import { T_INT, T_FLOAT, T_NUMREF, newInt, newFloat, newString } from './value';
import { alloc } from './mem';

// Exact arithmetic beyond 64-bit integers (big integers, decimals) runs in the host: the module
// registers the host builtin `pgwarden.numbers.arith` and the generated start function passes
// its id here. Without it (-1), such arithmetic falls back to doubles.
// @ts-ignore: decorator
@external('env', 'opa_builtin3')
declare function hostCall3(id: i32, ctx: u32, a: u32, b: u32, c: u32): u32;

let arithId: i32 = -1;

/** Called by the generated start function with the id of `pgwarden.numbers.arith`. */
export function rt_set_arith(id: i32): void {
  arithId = id;
}

/** The number's exact text as a string value (ints are formatted, refs keep their text). */
function numText(v: u32): u32 {
  const t = load<u8>(v);
  if (t == T_NUMREF) return newString(load<u32>(v, 8), load<u32>(v, 4));
  const buf = alloc(64);
  const len = t == T_INT ? i64ToText(load<i64>(v, 8), buf) : f64ToText(load<f64>(v, 8), buf);
  return newString(buf, len);
}

const OPS: u32 = memory.data<u8>([43, 45, 42, 47, 37, 97, 114, 99, 102]); // + - * / % a r c f

/** Exact arithmetic in the host: op is an index into OPS; 0 when unavailable or undefined. */
export function hostArith(op: u32, a: u32, b: u32): u32 {
  if (arithId < 0) return 0;
  const opv = newString(OPS + op, 1);
  return hostCall3(arithId, 0, opv, numText(a), b == 0 ? numText(a) : numText(b));
}

/** True when exact host arithmetic is available. */
export function exactArith(): bool {
  return arithId >= 0;
}

// "divide by zero", "modulo by zero"
const DIV_ZERO: u32 = memory.data<u8>([
  100, 105, 118, 105, 100, 101, 32, 98, 121, 32, 122, 101, 114, 111, 0,
]);
const MOD_ZERO: u32 = memory.data<u8>([
  109, 111, 100, 117, 108, 111, 32, 98, 121, 32, 122, 101, 114, 111, 0,
]);
// "modulo on floating-point number"
const MOD_FLOAT: u32 = memory.data<u8>([
  109, 111, 100, 117, 108, 111, 32, 111, 110, 32, 102, 108, 111, 97, 116, 105, 110, 103, 45,
  112, 111, 105, 110, 116, 32, 110, 117, 109, 98, 101, 114, 0,
]);

/** Parses decimal text (JSON number syntax) into a double. */
export function parseF64(p: u32, len: u32): f64 {
  let i: u32 = 0;
  let neg = false;
  if (i < len && load<u8>(p) == 45) {
    neg = true;
    i++;
  }
  let mant: f64 = 0;
  let exp: i32 = 0;
  let digits: i32 = 0;
  for (; i < len; i++) {
    const c = load<u8>(p + i);
    if (c < 48 || c > 57) break;
    if (digits < 18) {
      mant = mant * 10 + <f64>(c - 48);
      if (mant > 0) digits++;
    } else exp++;
  }
  if (i < len && load<u8>(p + i) == 46) {
    for (i++; i < len; i++) {
      const c = load<u8>(p + i);
      if (c < 48 || c > 57) break;
      if (digits < 18) {
        mant = mant * 10 + <f64>(c - 48);
        exp--;
        if (mant > 0) digits++;
      }
    }
  }
  if (i < len && (load<u8>(p + i) | 32) == 101) {
    i++;
    let eneg = false;
    if (i < len && (load<u8>(p + i) == 45 || load<u8>(p + i) == 43)) {
      eneg = load<u8>(p + i) == 45;
      i++;
    }
    let e: i32 = 0;
    for (; i < len; i++) {
      const c = load<u8>(p + i);
      if (c < 48 || c > 57) break;
      if (e < 100000) e = e * 10 + <i32>(c - 48);
    }
    exp += eneg ? -e : e;
  }
  let r: f64 = mant;
  if (exp > 0) r = mant * Math.pow(10, <f64>exp);
  else if (exp < -300) r = mant / Math.pow(10, 300) / Math.pow(10, <f64>(-exp - 300));
  else if (exp < 0) r = mant / Math.pow(10, <f64>-exp);
  return neg ? -r : r;
}

/** The value of any number as a double. */
export function numF64(v: u32): f64 {
  const t = load<u8>(v);
  if (t == T_INT) return <f64>load<i64>(v, 8);
  if (t == T_FLOAT) return load<f64>(v, 8);
  return parseF64(load<u32>(v, 8), load<u32>(v, 4));
}

/** True when a number ref's text is a plain integer (no fraction or exponent). */
function refIsInteger(v: u32): bool {
  const p = load<u32>(v, 8);
  const len = load<u32>(v, 4);
  for (let i: u32 = 0; i < len; i++) {
    const c = load<u8>(p + i);
    if (c == 46 || c == 101 || c == 69) return false;
  }
  return true;
}

/** Compares integer texts: sign, then digit count, then digits. */
function compareIntText(ap: u32, alen: u32, bp: u32, blen: u32): i32 {
  const an = alen > 0 && load<u8>(ap) == 45;
  const bn = blen > 0 && load<u8>(bp) == 45;
  if (an != bn) return an ? -1 : 1;
  if (an) {
    ap++;
    alen--;
    bp++;
    blen--;
  }
  let c: i32 = 0;
  if (alen != blen) c = alen < blen ? -1 : 1;
  else {
    for (let i: u32 = 0; i < alen; i++) {
      const x = load<u8>(ap + i);
      const y = load<u8>(bp + i);
      if (x != y) {
        c = x < y ? -1 : 1;
        break;
      }
    }
  }
  return an ? -c : c;
}

/** Writes an i64 as decimal text into a 24-byte scratch area; returns the length. */
export function i64ToText(n: i64, out: u32): u32 {
  if (n == 0) {
    store<u8>(out, 48);
    return 1;
  }
  let tmp: u64 = n < 0 ? <u64>(-n) : <u64>n;
  let len: u32 = 0;
  const scratch = out + 23;
  let q = scratch;
  while (tmp > 0) {
    store<u8>(q, <u8>(48 + tmp % 10));
    q--;
    tmp /= 10;
  }
  if (n < 0) {
    store<u8>(q, 45);
    q--;
  }
  len = scratch - q;
  memory.copy(out, q + 1, len);
  return len;
}

/** OPA's order on numbers; exact for integers of any size. */
export function numCompare(a: u32, b: u32): i32 {
  const ta = load<u8>(a);
  const tb = load<u8>(b);
  if (ta == T_INT && tb == T_INT) {
    const x = load<i64>(a, 8);
    const y = load<i64>(b, 8);
    return x < y ? -1 : x > y ? 1 : 0;
  }
  if ((ta == T_NUMREF || tb == T_NUMREF) && ta != T_FLOAT && tb != T_FLOAT) {
    const ai = ta == T_INT || refIsInteger(a);
    const bi = tb == T_INT || refIsInteger(b);
    if (ai && bi) {
      const buf = memory.data(48);
      let ap: u32, al: u32, bp: u32, bl: u32;
      if (ta == T_INT) {
        ap = buf;
        al = i64ToText(load<i64>(a, 8), buf);
      } else {
        ap = load<u32>(a, 8);
        al = load<u32>(a, 4);
      }
      if (tb == T_INT) {
        bp = buf + 24;
        bl = i64ToText(load<i64>(b, 8), buf + 24);
      } else {
        bp = load<u32>(b, 8);
        bl = load<u32>(b, 4);
      }
      return compareIntText(ap, al, bp, bl);
    }
  }
  const x = numF64(a);
  const y = numF64(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

/** Reads an integral number into `out` (scratch i64); false when not integral. */
export function numToI64(v: u32): bool {
  const t = load<u8>(v);
  if (t == T_INT) {
    i64Out = load<i64>(v, 8);
    return true;
  }
  const f = numF64(v);
  if (f != Math.floor(f) || Math.abs(f) > 9.2e18) return false;
  i64Out = <i64>f;
  return true;
}

/**
 * Message (NUL-terminated, static) of the last builtin error, or 0. Strict builtin errors report
 * it; other failures of a builtin are reported as an invalid argument.
 */
export let lastError: u32 = 0;

/** Records a builtin error message (static text) and returns 0 (undefined). */
export function setError(msg: u32): u32 {
  lastError = msg;
  return 0;
}

/** Result slot of numToI64 (a global keeps the call allocation-free). */
export let i64Out: i64 = 0;

function fromF64(f: f64): u32 {
  if (!isFinite(f)) return 0;
  return newFloat(f);
}

/** Number addition: 64-bit fast path, exact host arithmetic beyond it. */
export function numAdd(a: u32, b: u32): u32 {
  if (load<u8>(a) == T_INT && load<u8>(b) == T_INT) {
    const x = load<i64>(a, 8);
    const y = load<i64>(b, 8);
    const r = x + y;
    // Overflow when both operands share a sign the result does not have.
    if (((x ^ r) & (y ^ r)) >= 0) return newInt(r);
  }
  if (exactArith()) return hostArith(0, a, b);
  return fromF64(numF64(a) + numF64(b));
}

/** Number subtraction (see numAdd). */
export function numSub(a: u32, b: u32): u32 {
  if (load<u8>(a) == T_INT && load<u8>(b) == T_INT) {
    const x = load<i64>(a, 8);
    const y = load<i64>(b, 8);
    const r = x - y;
    if (((x ^ y) & (x ^ r)) >= 0) return newInt(r);
  }
  if (exactArith()) return hostArith(1, a, b);
  return fromF64(numF64(a) - numF64(b));
}

/** Number multiplication (see numAdd). */
export function numMul(a: u32, b: u32): u32 {
  if (load<u8>(a) == T_INT && load<u8>(b) == T_INT) {
    const x = load<i64>(a, 8);
    const y = load<i64>(b, 8);
    const small: i64 = 3037000499;
    if (x < small && x > -small && y < small && y > -small) return newInt(x * y);
  }
  if (exactArith()) return hostArith(2, a, b);
  return fromF64(numF64(a) * numF64(b));
}

/** Division; 0 (undefined) for a zero divisor, as OPA's `div` errors there. */
export function numDiv(a: u32, b: u32): u32 {
  if (load<u8>(a) == T_INT && load<u8>(b) == T_INT) {
    const x = load<i64>(a, 8);
    const y = load<i64>(b, 8);
    if (y == 0) return setError(DIV_ZERO);
    if (x % y == 0) return newInt(x / y);
  }
  const d = numF64(b);
  if (d == 0) return setError(DIV_ZERO);
  if (exactArith()) return hostArith(3, a, b);
  return fromF64(numF64(a) / d);
}

/** Remainder of integers; 0 (undefined) for non-integers or a zero divisor, as OPA errors. */
export function numRem(a: u32, b: u32): u32 {
  if (!isIntegral(a) || !isIntegral(b)) return setError(MOD_FLOAT);
  if (load<u8>(a) == T_INT && load<u8>(b) == T_INT) {
    const x = load<i64>(a, 8);
    const y = load<i64>(b, 8);
    if (y == 0) return setError(MOD_ZERO);
    // i64.MIN % -1 traps in Wasm; the answer is 0.
    return newInt(y == -1 ? 0 : x % y);
  }
  if (numF64(b) == 0) return setError(MOD_ZERO);
  if (exactArith()) return hostArith(4, a, b);
  return fromF64(numF64(a) % numF64(b));
}

/** True for integers: ints, integer refs, and integral doubles. */
function isIntegral(v: u32): bool {
  const t = load<u8>(v);
  if (t == T_INT) return true;
  if (t == T_NUMREF && refIsInteger(v)) return true;
  const f = numF64(v);
  return f == Math.floor(f);
}

/** Number negation. */
export function numNeg(a: u32): u32 {
  if (load<u8>(a) == T_INT && load<i64>(a, 8) != i64.MIN_VALUE) return newInt(-load<i64>(a, 8));
  if (exactArith()) return hostArith(1, newInt(0), a);
  return fromF64(-numF64(a));
}

/** Formats a double with up to 15 significant digits, shortest form (as %.15g trimmed). */
export function f64ToText(f: f64, out: u32): u32 {
  let p = out;
  if (f < 0) {
    store<u8>(p++, 45);
    f = -f;
  }
  if (f == 0) {
    store<u8>(p++, 48);
    return p - out;
  }
  let e = <i32>Math.floor(Math.log10(f));
  let m = Math.round(f * Math.pow(10, <f64>(14 - e)));
  if (m >= 1e15) {
    e++;
    m = Math.round(f * Math.pow(10, <f64>(14 - e)));
  }
  let digits = <u64>m;
  // 15 digits, trailing zeros trimmed.
  const dbuf = memory.data(16);
  for (let i = 14; i >= 0; i--) {
    store<u8>(dbuf + <u32>i, <u8>(48 + digits % 10));
    digits /= 10;
  }
  let nd: i32 = 15;
  while (nd > 1 && load<u8>(dbuf + <u32>(nd - 1)) == 48) nd--;
  if (e >= -5 && e < 21) {
    if (e < 0) {
      store<u8>(p++, 48);
      store<u8>(p++, 46);
      for (let i = -1; i > e; i--) store<u8>(p++, 48);
      for (let i = 0; i < nd; i++) store<u8>(p++, load<u8>(dbuf + <u32>i));
    } else {
      for (let i = 0; i <= e || i < nd; i++) {
        if (i == e + 1) store<u8>(p++, 46);
        store<u8>(p++, i < nd ? load<u8>(dbuf + <u32>i) : 48);
      }
    }
  } else {
    store<u8>(p++, load<u8>(dbuf));
    if (nd > 1) {
      store<u8>(p++, 46);
      for (let i = 1; i < nd; i++) store<u8>(p++, load<u8>(dbuf + <u32>i));
    }
    store<u8>(p++, 101);
    store<u8>(p++, e < 0 ? 45 : 43);
    p += i64ToText(<i64>(e < 0 ? -e : e), p);
  }
  return p - out;
}

export { T_INT, newInt };
