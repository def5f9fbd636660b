// String builtins evaluated inside the module. Positions and lengths count code points, as OPA
// counts runes. lower/upper map ASCII letters only (other scripts pass through unchanged).

import {
  T_STRING, T_ARRAY, T_SET, newBool, newInt, newString, newArray, arrAppend, arrLen, arrGet,
  collLen, collKey, isNumber,
} from './value';
import { alloc, bytesEqual } from './mem';
import { numToI64, i64Out, numF64 } from './number';
import { runeCount, rt_sort } from './builtins_core';

// @ts-ignore: decorator
@inline
function isStr(v: u32): bool {
  return load<u8>(v) == T_STRING;
}

/** Byte offset of `needle` in `hay` from byte `from`, or -1. */
function find(hp: u32, hn: u32, np: u32, nn: u32, from: u32): i32 {
  if (nn == 0) return <i32>from;
  if (nn > hn) return -1;
  const first = load<u8>(np);
  for (let i = from; i + nn <= hn; i++) {
    if (load<u8>(hp + i) == first && bytesEqual(hp + i, np, nn)) return <i32>i;
  }
  return -1;
}

/** Builtin `concat`; 0 when its result is undefined (see RUNTIME_BUILTINS). */
export function rt_concat(delim: u32, xs0: u32): u32 {
  if (!isStr(delim)) return 0;
  let xs = xs0;
  const t = load<u8>(xs);
  let n: u32;
  if (t == T_ARRAY) n = arrLen(xs);
  else if (t == T_SET) {
    // Sets join in sorted order, as OPA iterates them.
    n = collLen(xs);
    xs = rt_sort(xs);
  } else return 0;
  const dn = load<u32>(delim, 4);
  let total: u32 = n > 0 ? dn * (n - 1) : 0;
  for (let i: u32 = 0; i < n; i++) {
    const e = arrGet(xs, i);
    if (!isStr(e)) return 0;
    total += load<u32>(e, 4);
  }
  const out = alloc(total);
  let o = out;
  for (let i: u32 = 0; i < n; i++) {
    const e = arrGet(xs, i);
    if (i > 0) {
      memory.copy(o, load<u32>(delim, 8), dn);
      o += dn;
    }
    memory.copy(o, load<u32>(e, 8), load<u32>(e, 4));
    o += load<u32>(e, 4);
  }
  return newString(out, total);
}

/** Builtin `contains`; 0 when its result is undefined (see RUNTIME_BUILTINS). */
export function rt_contains(s: u32, sub: u32): u32 {
  if (!isStr(s) || !isStr(sub)) return 0;
  const i = find(load<u32>(s, 8), load<u32>(s, 4), load<u32>(sub, 8), load<u32>(sub, 4), 0);
  return newBool(i >= 0);
}

/** Builtin `startswith`; 0 when its result is undefined (see RUNTIME_BUILTINS). */
export function rt_startswith(s: u32, pre: u32): u32 {
  if (!isStr(s) || !isStr(pre)) return 0;
  const n = load<u32>(pre, 4);
  return newBool(n <= load<u32>(s, 4) && bytesEqual(load<u32>(s, 8), load<u32>(pre, 8), n));
}

/** Builtin `endswith`; 0 when its result is undefined (see RUNTIME_BUILTINS). */
export function rt_endswith(s: u32, suf: u32): u32 {
  if (!isStr(s) || !isStr(suf)) return 0;
  const n = load<u32>(suf, 4);
  const sn = load<u32>(s, 4);
  return newBool(n <= sn && bytesEqual(load<u32>(s, 8) + sn - n, load<u32>(suf, 8), n));
}

/** ASCII case mapping; 0 for non-ASCII text, which the host's Unicode mapping then handles. */
function mapCase(s: u32, upper: bool): u32 {
  if (!isStr(s)) return 0;
  const n = load<u32>(s, 4);
  const p = load<u32>(s, 8);
  const out = alloc(n);
  for (let i: u32 = 0; i < n; i++) {
    let c = load<u8>(p + i);
    if (c >= 0x80) return 0;
    if (upper && c >= 97 && c <= 122) c -= 32;
    else if (!upper && c >= 65 && c <= 90) c += 32;
    store<u8>(out + i, c);
  }
  return newString(out, n);
}

/** Builtin `lower`; 0 when its result is undefined (see RUNTIME_BUILTINS). */
export function rt_lower(s: u32): u32 {
  return mapCase(s, false);
}
/** Builtin `upper`; 0 when its result is undefined (see RUNTIME_BUILTINS). */
export function rt_upper(s: u32): u32 {
  return mapCase(s, true);
}

/** Builtin `split`; 0 when its result is undefined (see RUNTIME_BUILTINS). */
export function rt_split(s: u32, sep: u32): u32 {
  if (!isStr(s) || !isStr(sep)) return 0;
  const p = load<u32>(s, 8);
  const n = load<u32>(s, 4);
  const sp = load<u32>(sep, 8);
  const sn = load<u32>(sep, 4);
  const r = newArray(4);
  if (sn == 0) {
    // Go's strings.Split with an empty separator splits into code points.
    let i: u32 = 0;
    while (i < n) {
      let j = i + 1;
      while (j < n && (load<u8>(p + j) & 0xc0) == 0x80) j++;
      arrAppend(r, newString(p + i, j - i));
      i = j;
    }
    return r;
  }
  let from: u32 = 0;
  for (;;) {
    const i = find(p, n, sp, sn, from);
    if (i < 0) break;
    arrAppend(r, newString(p + from, <u32>i - from));
    from = <u32>i + sn;
  }
  arrAppend(r, newString(p + from, n - from));
  return r;
}

/** Builtin `replace`; 0 when its result is undefined (see RUNTIME_BUILTINS). */
export function rt_replace(s: u32, old: u32, nw: u32): u32 {
  if (!isStr(s) || !isStr(old) || !isStr(nw)) return 0;
  const p = load<u32>(s, 8);
  const n = load<u32>(s, 4);
  const op = load<u32>(old, 8);
  const on = load<u32>(old, 4);
  const np = load<u32>(nw, 8);
  const nn = load<u32>(nw, 4);
  if (on == 0) return s;
  let count: u32 = 0;
  for (let i = find(p, n, op, on, 0); i >= 0; i = find(p, n, op, on, <u32>i + on)) count++;
  if (count == 0) return s;
  const total = n + count * nn - count * on;
  const out = alloc(total);
  let o = out;
  let from: u32 = 0;
  for (let i = find(p, n, op, on, 0); i >= 0; i = find(p, n, op, on, from)) {
    memory.copy(o, p + from, <u32>i - from);
    o += <u32>i - from;
    memory.copy(o, np, nn);
    o += nn;
    from = <u32>i + on;
  }
  memory.copy(o, p + from, n - from);
  return newString(out, total);
}

/** True when the code point starting at `p` (length `len`) is one of the cutset's. */
function inCutset(p: u32, len: u32, cp: u32, cn: u32): bool {
  let i: u32 = 0;
  while (i < cn) {
    let j = i + 1;
    while (j < cn && (load<u8>(cp + j) & 0xc0) == 0x80) j++;
    if (j - i == len && bytesEqual(cp + i, p, len)) return true;
    i = j;
  }
  return false;
}

function trimImpl(s: u32, cut: u32, left: bool, right: bool): u32 {
  if (!isStr(s) || !isStr(cut)) return 0;
  const p = load<u32>(s, 8);
  let a: u32 = 0;
  let b = load<u32>(s, 4);
  const cp = load<u32>(cut, 8);
  const cn = load<u32>(cut, 4);
  if (left) {
    while (a < b) {
      let j = a + 1;
      while (j < b && (load<u8>(p + j) & 0xc0) == 0x80) j++;
      if (!inCutset(p + a, j - a, cp, cn)) break;
      a = j;
    }
  }
  if (right) {
    while (b > a) {
      let j = b - 1;
      while (j > a && (load<u8>(p + j) & 0xc0) == 0x80) j--;
      if (!inCutset(p + j, b - j, cp, cn)) break;
      b = j;
    }
  }
  return newString(p + a, b - a);
}

/** Builtin `trim`; 0 when its result is undefined (see RUNTIME_BUILTINS). */
export function rt_trim(s: u32, cut: u32): u32 {
  return trimImpl(s, cut, true, true);
}
/** Builtin `trim_left`; 0 when its result is undefined (see RUNTIME_BUILTINS). */
export function rt_trim_left(s: u32, cut: u32): u32 {
  return trimImpl(s, cut, true, false);
}
/** Builtin `trim_right`; 0 when its result is undefined (see RUNTIME_BUILTINS). */
export function rt_trim_right(s: u32, cut: u32): u32 {
  return trimImpl(s, cut, false, true);
}

const SPACES: u32 = memory.data<u8>([32, 9, 10, 13, 11, 12]);

/** Builtin `trim_space`; 0 when its result is undefined (see RUNTIME_BUILTINS). */
export function rt_trim_space(s: u32): u32 {
  if (!isStr(s)) return 0;
  const cut = newString(SPACES, 6);
  return trimImpl(s, cut, true, true);
}

/** Builtin `trim_prefix`; 0 when its result is undefined (see RUNTIME_BUILTINS). */
export function rt_trim_prefix(s: u32, pre: u32): u32 {
  if (!isStr(s) || !isStr(pre)) return 0;
  const n = load<u32>(pre, 4);
  const sn = load<u32>(s, 4);
  if (n <= sn && bytesEqual(load<u32>(s, 8), load<u32>(pre, 8), n)) {
    return newString(load<u32>(s, 8) + n, sn - n);
  }
  return s;
}

/** Builtin `trim_suffix`; 0 when its result is undefined (see RUNTIME_BUILTINS). */
export function rt_trim_suffix(s: u32, suf: u32): u32 {
  if (!isStr(s) || !isStr(suf)) return 0;
  const n = load<u32>(suf, 4);
  const sn = load<u32>(s, 4);
  if (n <= sn && bytesEqual(load<u32>(s, 8) + sn - n, load<u32>(suf, 8), n)) {
    return newString(load<u32>(s, 8), sn - n);
  }
  return s;
}

/** indexof: code point index of the first match, or -1. */
export function rt_indexof(s: u32, sub: u32): u32 {
  // OPA refuses an empty search string ("empty search character"): undefined, or the error.
  if (!isStr(s) || !isStr(sub) || load<u32>(sub, 4) == 0) return 0;
  const p = load<u32>(s, 8);
  const i = find(p, load<u32>(s, 4), load<u32>(sub, 8), load<u32>(sub, 4), 0);
  return newInt(i < 0 ? -1 : <i64>runeCount(p, <u32>i));
}

/** Byte offset of code point number `k` (clamped to the end). */
function runeOffset(p: u32, n: u32, k: u32): u32 {
  let i: u32 = 0;
  let c: u32 = 0;
  while (i < n && c < k) {
    i++;
    while (i < n && (load<u8>(p + i) & 0xc0) == 0x80) i++;
    c++;
  }
  return i;
}

/** substring(s, start, length): a negative length means to the end. */
export function rt_substring(s: u32, start: u32, len: u32): u32 {
  if (!isStr(s) || !isNumber(start) || !isNumber(len)) return 0;
  if (!numToI64(start)) return 0;
  const st = i64Out;
  if (!numToI64(len)) return 0;
  const ln = i64Out;
  if (st < 0) return 0;
  const p = load<u32>(s, 8);
  const n = load<u32>(s, 4);
  const a = runeOffset(p, n, <u32>st);
  const b = ln < 0 ? n : a + runeOffset(p + a, n - a, <u32>ln);
  return newString(p + a, b - a);
}

const DIGITS: u32 = memory.data<u8>([
  48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 97, 98, 99, 100, 101, 102,
]);

/** format_int(number, base) for bases 2, 8, 10 and 16; fractions are truncated. */
export function rt_format_int(x: u32, base: u32): u32 {
  if (!isNumber(x) || !isNumber(base) || !numToI64(base)) return 0;
  const b = i64Out;
  if (b != 2 && b != 8 && b != 10 && b != 16) return 0;
  const f = numF64(x);
  let n: i64 = <i64>(f < 0 ? Math.ceil(f) : Math.floor(f));
  if (numToI64(x)) n = i64Out;
  const buf = alloc(72);
  let q = buf + 71;
  const neg = n < 0;
  let u: u64 = neg ? <u64>(-n) : <u64>n;
  do {
    store<u8>(q--, load<u8>(DIGITS + <u32>(u % <u64>b)));
    u /= <u64>b;
  } while (u > 0);
  if (neg) store<u8>(q--, 45);
  return newString(q + 1, buf + 71 - q);
}

/** strings.reverse: the code points in reverse order. */
export function rt_strings_reverse(s: u32): u32 {
  if (!isStr(s)) return 0;
  const p = load<u32>(s, 8);
  const n = load<u32>(s, 4);
  const out = alloc(n);
  let i: u32 = 0;
  while (i < n) {
    let j = i + 1;
    while (j < n && (load<u8>(p + j) & 0xc0) == 0x80) j++;
    memory.copy(out + n - j, p + i, j - i);
    i = j;
  }
  return newString(out, n);
}
