// The value model. Every Rego value is a pointer to a small header in linear memory:
//
//   offset 0  u8  type (T_*)
//   null      -
//   boolean   +4 i32 0|1
//   int       +8 i64                          (numbers that fit in 64 bits)
//   float     +8 f64                          (results of arithmetic that are not integers)
//   numref    +4 u32 len, +8 u32 ptr          (decimal text: big integers and decimals as parsed)
//   string    +4 u32 len, +8 u32 ptr          (UTF-8 bytes, not NUL-terminated)
//   array     +4 u32 len, +8 u32 cap, +12 u32 elems (u32 value pointers)
//   object    +4 len, +8 cap, +12 keys, +16 vals, +20 index, +24 index cap, +28 sorted order
//   set       +4 len, +8 cap, +12 elems, +16 (unused), +20 index, +24 index cap, +28 sorted order
//
// Objects and sets keep insertion order plus, past a few entries, an open-addressing hash index
// (u32 slots holding entry number + 1). Strings parsed from JSON point into the JSON text itself,
// which the SDK keeps in memory for the whole evaluation, so parsing copies nothing.

import { alloc } from './mem';

export const T_NULL: u8 = 1;
export const T_BOOL: u8 = 2;
export const T_INT: u8 = 3;
export const T_FLOAT: u8 = 4;
export const T_NUMREF: u8 = 5;
export const T_STRING: u8 = 6;
export const T_ARRAY: u8 = 7;
export const T_OBJECT: u8 = 8;
export const T_SET: u8 = 9;

/** Static singletons so the common constants cost no allocation. */
const NULL_VALUE: u32 = memory.data<u64>([1, 0]);
const FALSE_VALUE: u32 = memory.data<u64>([2, 0]);
const TRUE_VALUE: u32 = memory.data<u64>([0x100000002, 0]);

// @ts-ignore: decorator
@inline
export function vtype(v: u32): u8 {
  return load<u8>(v);
}

/** The rank of a type in OPA's total order: null < boolean < number < string < array < ... */
// @ts-ignore: decorator
@inline
export function rank(t: u8): i32 {
  if (t <= T_BOOL) return <i32>t;
  if (t <= T_NUMREF) return 3;
  return <i32>t - 2;
}

// @ts-ignore: decorator
@inline
export function isNumber(v: u32): bool {
  const t = load<u8>(v);
  return t >= T_INT && t <= T_NUMREF;
}

/** The null value (a static singleton). */
export function newNull(): u32 {
  return NULL_VALUE;
}

/** A boolean value (static singletons). */
export function newBool(b: bool): u32 {
  return b ? TRUE_VALUE : FALSE_VALUE;
}

// @ts-ignore: decorator
@inline
export function boolValue(v: u32): bool {
  return load<i32>(v, 4) != 0;
}

/** A new 64-bit integer number value. */
export function newInt(n: i64): u32 {
  const v = alloc(16);
  store<u8>(v, T_INT);
  store<i64>(v, n, 8);
  return v;
}

/** A number from a double: integral values that fit become ints, so 2.0 and 2 are one value. */
export function newFloat(f: f64): u32 {
  if (f == Math.floor(f) && Math.abs(f) < 9.2e18) return newInt(<i64>f);
  const v = alloc(16);
  store<u8>(v, T_FLOAT);
  store<f64>(v, f, 8);
  return v;
}

/** A number value that keeps its decimal text. */
export function newNumRef(ptr: u32, len: u32): u32 {
  const v = alloc(16);
  store<u8>(v, T_NUMREF);
  store<u32>(v, len, 4);
  store<u32>(v, ptr, 8);
  return v;
}

/** A string value over existing UTF-8 bytes (not copied). */
export function newString(ptr: u32, len: u32): u32 {
  const v = alloc(16);
  store<u8>(v, T_STRING);
  store<u32>(v, len, 4);
  store<u32>(v, ptr, 8);
  return v;
}

// @ts-ignore: decorator
@inline
export function strLen(v: u32): u32 {
  return load<u32>(v, 4);
}

// @ts-ignore: decorator
@inline
export function strPtr(v: u32): u32 {
  return load<u32>(v, 8);
}

// ---- arrays

export function newArray(cap: u32): u32 {
  const v = alloc(16);
  store<u8>(v, T_ARRAY);
  store<u32>(v, 0, 4);
  store<u32>(v, cap, 8);
  store<u32>(v, cap > 0 ? alloc(cap << 2) : 0, 12);
  return v;
}

// @ts-ignore: decorator
@inline
export function arrLen(v: u32): u32 {
  return load<u32>(v, 4);
}

// @ts-ignore: decorator
@inline
export function arrGet(v: u32, i: u32): u32 {
  return load<u32>(load<u32>(v, 12) + (i << 2));
}

/** Appends an element to an array, growing it as needed. */
export function arrAppend(v: u32, e: u32): void {
  const len = load<u32>(v, 4);
  let cap = load<u32>(v, 8);
  let elems = load<u32>(v, 12);
  if (len == cap) {
    cap = cap < 4 ? 4 : cap << 1;
    const grown = alloc(cap << 2);
    if (len > 0) memory.copy(grown, elems, len << 2);
    elems = grown;
    store<u32>(v, cap, 8);
    store<u32>(v, elems, 12);
  }
  store<u32>(elems + (len << 2), e);
  store<u32>(v, len + 1, 4);
}

// @ts-ignore: decorator
@inline
export function arrSet(v: u32, i: u32, e: u32): void {
  store<u32>(load<u32>(v, 12) + (i << 2), e);
}

// ---- objects and sets share the entry list and the hash index

export function newObject(cap: u32): u32 {
  const v = alloc(32);
  store<u8>(v, T_OBJECT);
  store<u32>(v, 0, 4);
  store<u32>(v, cap, 8);
  store<u32>(v, cap > 0 ? alloc(cap << 2) : 0, 12);
  store<u32>(v, cap > 0 ? alloc(cap << 2) : 0, 16);
  store<u64>(v, 0, 20);
  store<u32>(v, 0, 28);
  return v;
}

/** A new empty set. */
export function newSet(cap: u32): u32 {
  const v = alloc(32);
  store<u8>(v, T_SET);
  store<u32>(v, 0, 4);
  store<u32>(v, cap, 8);
  store<u32>(v, cap > 0 ? alloc(cap << 2) : 0, 12);
  store<u32>(v, 0, 16);
  store<u64>(v, 0, 20);
  store<u32>(v, 0, 28);
  return v;
}

// @ts-ignore: decorator
@inline
export function collLen(v: u32): u32 {
  return load<u32>(v, 4);
}

/** Key (object) or element (set) number `i`. */
// @ts-ignore: decorator
@inline
export function collKey(v: u32, i: u32): u32 {
  return load<u32>(load<u32>(v, 12) + (i << 2));
}

// @ts-ignore: decorator
@inline
export function objVal(v: u32, i: u32): u32 {
  return load<u32>(load<u32>(v, 16) + (i << 2));
}

// @ts-ignore: decorator
@inline
export function objSetVal(v: u32, i: u32, val: u32): void {
  store<u32>(load<u32>(v, 16) + (i << 2), val);
}
