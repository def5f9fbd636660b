// JSON text <-> values. The parser is a single pass over the bytes with no copying for strings
// without escapes and integers that fit 64 bits; it also reads Rego's value syntax (sets as
// `{a, b}` and `set()`) when asked, for opa_value_parse. Dumps write into a growable buffer.

import { alloc } from './mem';
import {
  T_NULL, T_BOOL, T_INT, T_FLOAT, T_NUMREF, T_STRING, T_ARRAY, T_OBJECT, T_SET,
  newNull, newBool, newInt, newNumRef, newString, newArray, arrAppend, newObject, newSet,
  arrLen, arrGet, collLen, collKey, objVal,
} from './value';
import { objInsert, setAdd } from './coll';
import { sortedOrder } from './compare';
import { i64ToText, f64ToText } from './number';

let pos: u32 = 0;
let end: u32 = 0;
let failed: bool = false;
let regoSyntax: bool = false;

/** Parses `len` bytes of JSON (or Rego value text) at `p`; 0 on a syntax error. */
export function parseText(p: u32, len: u32, rego: bool): u32 {
  pos = p;
  end = p + len;
  failed = false;
  regoSyntax = rego;
  const v = parseValue();
  skipWs();
  if (failed || pos != end) return 0;
  return v;
}

// @ts-ignore: decorator
@inline
function skipWs(): void {
  while (pos < end) {
    const c = load<u8>(pos);
    if (c != 32 && c != 10 && c != 13 && c != 9) break;
    pos++;
  }
}

function fail(): u32 {
  failed = true;
  pos = end;
  return 0;
}

function expectWord(w: u64, n: u32): bool {
  // Compares up to 8 bytes of a keyword at once.
  if (pos + n > end) return false;
  for (let i: u32 = 0; i < n; i++) {
    if (load<u8>(pos + i) != <u8>(w >> (i << 3))) return false;
  }
  pos += n;
  return true;
}

function parseValue(): u32 {
  skipWs();
  if (pos >= end) return fail();
  const c = load<u8>(pos);
  if (c == 34) return parseString();
  if (c == 123) return parseObject();
  if (c == 91) return parseArray();
  if (c == 45 || (c >= 48 && c <= 57)) return parseNumber();
  if (c == 116 && expectWord(0x65757274, 4)) return newBool(true); // true
  if (c == 102 && expectWord(0x65736c6166, 5)) return newBool(false); // false
  if (c == 110 && expectWord(0x6c6c756e, 4)) return newNull(); // null
  if (regoSyntax && c == 115 && expectWord(0x2928746573, 5)) return newSet(0); // set()
  return fail();
}

function parseNumber(): u32 {
  const start = pos;
  let neg = false;
  if (load<u8>(pos) == 45) {
    neg = true;
    pos++;
  }
  let n: u64 = 0;
  let digits: u32 = 0;
  while (pos < end) {
    const c = load<u8>(pos);
    if (c < 48 || c > 57) break;
    n = n * 10 + <u64>(c - 48);
    digits++;
    pos++;
  }
  if (digits == 0) return fail();
  let plain = true;
  if (pos < end && load<u8>(pos) == 46) {
    plain = false;
    pos++;
    const d0 = pos;
    while (pos < end && load<u8>(pos) >= 48 && load<u8>(pos) <= 57) pos++;
    if (pos == d0) return fail();
  }
  if (pos < end && (load<u8>(pos) | 32) == 101) {
    plain = false;
    pos++;
    if (pos < end && (load<u8>(pos) == 43 || load<u8>(pos) == 45)) pos++;
    const d0 = pos;
    while (pos < end && load<u8>(pos) >= 48 && load<u8>(pos) <= 57) pos++;
    if (pos == d0) return fail();
  }
  // 18 digits always fit in an i64; longer integers stay as exact text.
  if (plain && digits <= 18) return newInt(neg ? -<i64>n : <i64>n);
  return newNumRef(start, pos - start);
}

/** Decodes four hex digits at `p`; -1 when they are not hex. */
function hex4(p: u32): i32 {
  let r: i32 = 0;
  for (let i: u32 = 0; i < 4; i++) {
    const c = <i32>load<u8>(p + i);
    let d: i32;
    if (c >= 48 && c <= 57) d = c - 48;
    else if ((c | 32) >= 97 && (c | 32) <= 102) d = (c | 32) - 87;
    else return -1;
    r = (r << 4) | d;
  }
  return r;
}

function parseString(): u32 {
  pos++;
  const start = pos;
  while (pos < end) {
    const c = load<u8>(pos);
    if (c == 34) {
      const v = newString(start, pos - start);
      pos++;
      return v;
    }
    if (c == 92) return parseEscaped(start);
    if (c < 32) return fail();
    pos++;
  }
  return fail();
}

/** Slow path: the string has escapes, so it is decoded into fresh memory. */
function parseEscaped(start: u32): u32 {
  // Decoded text is never longer than the source text.
  let q = start;
  while (q < end && load<u8>(q) != 34) q += load<u8>(q) == 92 ? 2 : 1;
  const out = alloc(q - start + 4);
  let o = out;
  pos = start;
  while (pos < end) {
    const c = load<u8>(pos);
    if (c == 34) {
      pos++;
      return newString(out, o - out);
    }
    if (c != 92) {
      if (c < 32) return fail();
      store<u8>(o++, c);
      pos++;
      continue;
    }
    if (pos + 1 >= end) return fail();
    const e = load<u8>(pos + 1);
    pos += 2;
    if (e == 110) store<u8>(o++, 10);
    else if (e == 116) store<u8>(o++, 9);
    else if (e == 114) store<u8>(o++, 13);
    else if (e == 98) store<u8>(o++, 8);
    else if (e == 102) store<u8>(o++, 12);
    else if (e == 34 || e == 92 || e == 47) store<u8>(o++, e);
    else if (e == 117) {
      if (pos + 4 > end) return fail();
      let cp = hex4(pos);
      if (cp < 0) return fail();
      pos += 4;
      const pairFollows = pos + 6 <= end && load<u8>(pos) == 92 && load<u8>(pos + 1) == 117;
      if (cp >= 0xd800 && cp < 0xdc00 && pairFollows) {
        const lo = hex4(pos + 2);
        if (lo >= 0xdc00 && lo < 0xe000) {
          cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
          pos += 6;
        }
      }
      o = putUtf8(o, cp);
    } else return fail();
  }
  return fail();
}

function putUtf8(o: u32, cp: i32): u32 {
  if (cp < 0x80) {
    store<u8>(o, <u8>cp);
    return o + 1;
  }
  if (cp < 0x800) {
    store<u8>(o, <u8>(0xc0 | (cp >> 6)));
    store<u8>(o + 1, <u8>(0x80 | (cp & 63)));
    return o + 2;
  }
  if (cp < 0x10000) {
    store<u8>(o, <u8>(0xe0 | (cp >> 12)));
    store<u8>(o + 1, <u8>(0x80 | ((cp >> 6) & 63)));
    store<u8>(o + 2, <u8>(0x80 | (cp & 63)));
    return o + 3;
  }
  store<u8>(o, <u8>(0xf0 | (cp >> 18)));
  store<u8>(o + 1, <u8>(0x80 | ((cp >> 12) & 63)));
  store<u8>(o + 2, <u8>(0x80 | ((cp >> 6) & 63)));
  store<u8>(o + 3, <u8>(0x80 | (cp & 63)));
  return o + 4;
}

function parseArray(): u32 {
  pos++;
  const arr = newArray(0);
  skipWs();
  if (pos < end && load<u8>(pos) == 93) {
    pos++;
    return arr;
  }
  for (;;) {
    const v = parseValue();
    if (failed) return 0;
    arrAppend(arr, v);
    skipWs();
    if (pos >= end) return fail();
    const c = load<u8>(pos++);
    if (c == 93) return arr;
    if (c != 44) return fail();
  }
  // Not reached: the loop above always returns.
  return 0;
}

function parseObject(): u32 {
  pos++;
  skipWs();
  if (pos < end && load<u8>(pos) == 125) {
    pos++;
    return newObject(0);
  }
  const first = parseValue();
  if (failed) return 0;
  skipWs();
  if (regoSyntax && pos < end && load<u8>(pos) != 58) return parseSetRest(first);
  if (!regoSyntax && load<u8>(first) != T_STRING) return fail();
  const obj = newObject(4);
  let key = first;
  for (;;) {
    skipWs();
    if (pos >= end || load<u8>(pos) != 58) return fail();
    pos++;
    const v = parseValue();
    if (failed) return 0;
    objInsert(obj, key, v);
    skipWs();
    if (pos >= end) return fail();
    const c = load<u8>(pos++);
    if (c == 125) return obj;
    if (c != 44) return fail();
    skipWs();
    key = parseValue();
    if (failed) return 0;
    if (!regoSyntax && load<u8>(key) != T_STRING) return fail();
  }
  // Not reached: the loop above always returns.
  return 0;
}

function parseSetRest(first: u32): u32 {
  const set = newSet(4);
  setAdd(set, first);
  for (;;) {
    skipWs();
    if (pos >= end) return fail();
    const c = load<u8>(pos++);
    if (c == 125) return set;
    if (c != 44) return fail();
    const v = parseValue();
    if (failed) return 0;
    setAdd(set, v);
  }
  // Not reached: the loop above always returns.
  return 0;
}

// ---- dumping

let wStart: u32 = 0;
let wPos: u32 = 0;
let wEnd: u32 = 0;

function reserve(n: u32): void {
  if (wPos + n <= wEnd) return;
  let cap = (wEnd - wStart) << 1;
  const used = wPos - wStart;
  if (cap < used + n + 64) cap = used + n + 64;
  const buf = alloc(cap);
  memory.copy(buf, wStart, used);
  wStart = buf;
  wPos = buf + used;
  wEnd = buf + cap;
}

// @ts-ignore: decorator
@inline
function putByte(c: u8): void {
  reserve(1);
  store<u8>(wPos++, c);
}

function putBytes(p: u32, n: u32): void {
  reserve(n);
  memory.copy(wPos, p, n);
  wPos += n;
}

const HEX: u32 = memory.data<u8>([
  48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 97, 98, 99, 100, 101, 102,
]);

function putString(p: u32, n: u32): void {
  reserve(n + 2);
  store<u8>(wPos++, 34);
  let run = p;
  const stop = p + n;
  for (let q = p; q < stop; q++) {
    const c = load<u8>(q);
    if (c >= 32 && c != 34 && c != 92) continue;
    putBytes(run, q - run);
    run = q + 1;
    reserve(6);
    store<u8>(wPos++, 92);
    if (c == 34 || c == 92) store<u8>(wPos++, c);
    else if (c == 10) store<u8>(wPos++, 110);
    else if (c == 9) store<u8>(wPos++, 116);
    else if (c == 13) store<u8>(wPos++, 114);
    else {
      store<u8>(wPos++, 117);
      store<u8>(wPos++, 48);
      store<u8>(wPos++, 48);
      store<u8>(wPos++, load<u8>(HEX + (c >> 4)));
      store<u8>(wPos++, load<u8>(HEX + (c & 15)));
    }
  }
  putBytes(run, stop - run);
  putByte(34);
}

function putNumber(v: u32): void {
  const t = load<u8>(v);
  reserve(64);
  if (t == T_INT) wPos += i64ToText(load<i64>(v, 8), wPos);
  else if (t == T_FLOAT) wPos += f64ToText(load<f64>(v, 8), wPos);
  else putBytes(load<u32>(v, 8), load<u32>(v, 4));
}

/** Writes one value; `rego` selects Rego syntax (sets as `{...}`, non-string keys as-is). */
/** Rego text as OPA prints values (sprintf %v, print): `[1, 2]`, `{"a": 1}`, spaced. */
let spaced: bool = false;

// @ts-ignore: decorator
@inline
function putSeparator(c: u8): void {
  putByte(c);
  if (spaced) putByte(32);
}

function put(v: u32, rego: bool): void {
  const t = load<u8>(v);
  switch (t) {
    case T_NULL:
      putBytes(memory.data<u8>([110, 117, 108, 108]), 4);
      return;
    case T_BOOL:
      if (load<i32>(v, 4) != 0) putBytes(memory.data<u8>([116, 114, 117, 101]), 4);
      else putBytes(memory.data<u8>([102, 97, 108, 115, 101]), 5);
      return;
    case T_STRING:
      putString(load<u32>(v, 8), load<u32>(v, 4));
      return;
    case T_ARRAY: {
      putByte(91);
      const n = arrLen(v);
      for (let i: u32 = 0; i < n; i++) {
        if (i > 0) putSeparator(44);
        put(arrGet(v, i), rego);
      }
      putByte(93);
      return;
    }
    case T_OBJECT: {
      putByte(123);
      const n = collLen(v);
      const order = sortedOrder(v);
      for (let i: u32 = 0; i < n; i++) {
        if (i > 0) putSeparator(44);
        const e = load<u32>(order + (i << 2));
        const k = collKey(v, e);
        if (rego || load<u8>(k) == T_STRING) put(k, rego);
        else putKeyAsString(k);
        putSeparator(58);
        put(objVal(v, e), rego);
      }
      putByte(125);
      return;
    }
    case T_SET: {
      const n = collLen(v);
      if (rego && n == 0) {
        putBytes(memory.data<u8>([115, 101, 116, 40, 41]), 5);
        return;
      }
      putByte(rego ? 123 : 91);
      const order = sortedOrder(v);
      for (let i: u32 = 0; i < n; i++) {
        if (i > 0) putSeparator(44);
        put(collKey(v, load<u32>(order + (i << 2))), rego);
      }
      putByte(rego ? 125 : 93);
      return;
    }
    default:
      putNumber(v);
  }
}

/** JSON object keys must be strings: other keys are written as their JSON text, quoted. */
function putKeyAsString(k: u32): void {
  const saveStart = wStart;
  const savePos = wPos;
  const saveEnd = wEnd;
  wStart = alloc(64);
  wPos = wStart;
  wEnd = wStart + 64;
  put(k, false);
  const p = wStart;
  const n = wPos - wStart;
  wStart = saveStart;
  wPos = savePos;
  wEnd = saveEnd;
  putString(p, n);
}

/** Dumps a value as NUL-terminated text; returns its address. */
export function dumpText(v: u32, rego: bool): u32 {
  spaced = false;
  wStart = alloc(256);
  wPos = wStart;
  wEnd = wStart + 256;
  put(v, rego);
  putByte(0);
  return wStart;
}

/** Dumps a value and returns a string value of its text (no NUL); for builtins. */
export function dumpToString(v: u32, rego: bool): u32 {
  const p = dumpText(v, rego);
  return newString(p, wPos - p - 1);
}

export { T_NUMREF };

/**
 * sprintf for the verbs policies use most (%s, %v, %d, %%), with no width or precision: the
 * Rego text of each argument, as OPA's sprintf writes it. 0 for anything else, which the host's
 * full implementation then formats.
 */
export function rt_sprintf(format: u32, args: u32): u32 {
  if (load<u8>(format) != T_STRING || load<u8>(args) != T_ARRAY) return 0;
  const fp = load<u32>(format, 8);
  const fn = load<u32>(format, 4);
  const n = arrLen(args);
  spaced = true;
  wStart = alloc(fn + 64);
  wPos = wStart;
  wEnd = wStart + fn + 64;
  let next: u32 = 0;
  for (let i: u32 = 0; i < fn; i++) {
    const c = load<u8>(fp + i);
    if (c != 37) {
      putByte(c);
      continue;
    }
    if (i + 1 >= fn) return 0;
    const verb = load<u8>(fp + ++i);
    if (verb == 37) {
      putByte(37);
      continue;
    }
    if (next >= n) return 0;
    const a = arrGet(args, next++);
    const t = load<u8>(a);
    if (verb == 100) {
      // %d: integers only (others need the host's error text).
      if (t != T_INT) return 0;
      putNumber(a);
    } else if (verb == 115 || verb == 118) {
      // %s / %v: strings bare, big numbers exact, everything else as Rego text.
      if (t == T_STRING) putBytes(load<u32>(a, 8), load<u32>(a, 4));
      else put(a, true);
    } else return 0;
  }
  if (next != n) return 0;
  spaced = false;
  return newString(wStart, wPos - wStart);
}
