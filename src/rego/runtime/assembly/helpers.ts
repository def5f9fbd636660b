// Helpers the generated policy code calls: value constructors, iteration, lookups, `with`
// upserts, printing and runtime errors. Names start with rt_ so the generator can find them.

import {
  T_INT, T_NUMREF, T_ARRAY, T_OBJECT, T_SET, T_STRING, newNull, newBool, newInt, newNumRef,
  newString,
  newArray, arrAppend, arrLen, arrGet, newObject, newSet, collLen, collKey, objVal,
} from './value';
import { objIndexOfStr, objInsert, collIndexOf } from './coll';
import { alloc, bytesEqual } from './mem';
import { runeCount, rt_type_name } from './builtins_core';
import { lastError, setError } from './number';
import { dumpText, dumpToString, parseText } from './json';
import { sortedOrder } from './compare';
import { opa_abort, opa_println } from './abi';

/** Generated code: the null value. */
export function rt_null(): u32 {
  return newNull();
}
/** Generated code: a boolean value. */
export function rt_bool(b: i32): u32 {
  return newBool(b != 0);
}
/** Generated code: an integer value. */
export function rt_int(n: i64): u32 {
  return newInt(n);
}
/** Generated code: a number from static decimal text. */
export function rt_numref(p: u32, n: u32): u32 {
  return newNumRef(p, n);
}
/** Generated code: a string over static bytes. */
export function rt_string(p: u32, n: u32): u32 {
  return newString(p, n);
}
/** Generated code: a new array. */
export function rt_array(cap: u32): u32 {
  return newArray(cap);
}
/** Generated code: ArrayAppendStmt. */
export function rt_array_append(a: u32, v: u32): void {
  arrAppend(a, v);
}
/** Generated code: a new object. */
export function rt_object(): u32 {
  return newObject(0);
}
/** Generated code: a new set. */
export function rt_set(): u32 {
  return newSet(0);
}

/** The value's type tag (see value.ts). */
export function rt_type(v: u32): i32 {
  return <i32>load<u8>(v);
}

/** Number of entries an iteration over `v` visits (0 for scalars). */
export function rt_coll_len(v: u32): i32 {
  const t = load<u8>(v);
  if (t == T_ARRAY) return <i32>arrLen(v);
  if (t == T_OBJECT || t == T_SET) return <i32>collLen(v);
  return 0;
}

/** Key of entry `i`: the index for arrays, the key for objects, the element for sets. */
export function rt_key_at(v: u32, i: i32): u32 {
  const t = load<u8>(v);
  if (t == T_ARRAY) return newInt(i);
  return collKey(v, <u32>i);
}

/** Value of entry `i`. */
export function rt_val_at(v: u32, i: i32): u32 {
  const t = load<u8>(v);
  if (t == T_ARRAY) return arrGet(v, <u32>i);
  if (t == T_OBJECT) return objVal(v, <u32>i);
  return collKey(v, <u32>i);
}

/** LenStmt: the length of a collection, or of a string in code points; 0 otherwise. */
export function rt_len(v: u32): u32 {
  const t = load<u8>(v);
  if (t == T_ARRAY) return newInt(arrLen(v));
  if (t == T_OBJECT || t == T_SET) return newInt(collLen(v));
  if (t == T_STRING) return newInt(runeCount(load<u32>(v, 8), load<u32>(v, 4)));
  return 0;
}

/** 1 when `v` is the string with these bytes (CallDynamicStmt path matching). */
export function rt_str_eq(v: u32, p: u32, n: u32): i32 {
  return load<u8>(v) == T_STRING && load<u32>(v, 4) == n && bytesEqual(load<u32>(v, 8), p, n)
    ? 1
    : 0;
}

/** `v["literal"]` without building a key value: the common DotStmt. */
export function rt_dot_str(v: u32, p: u32, n: u32): u32 {
  if (load<u8>(v) == T_OBJECT) {
    const i = objIndexOfStr(v, p, n);
    return i < 0 ? 0 : objVal(v, <u32>i);
  }
  if (load<u8>(v) == T_SET) {
    const key = newString(p, n);
    const i = collIndexOf(v, key);
    return i < 0 ? 0 : collKey(v, <u32>i);
  }
  return 0;
}

/** A shallow copy of an object, so `with` and merges never change a shared value. */
function copyObject(o: u32): u32 {
  const n = collLen(o);
  const r = newObject(n);
  for (let i: u32 = 0; i < n; i++) objInsert(r, collKey(o, i), objVal(o, i));
  return r;
}

/**
 * `with` support: returns a copy of `base` (0 = undefined) with `path` (an array of keys) set to
 * `val`, creating objects along the way. An empty path replaces the whole value.
 */
export function rt_upsert(base: u32, path: u32, val: u32): u32 {
  return upsertFrom(base, path, 0, val);
}

function upsertFrom(base: u32, path: u32, i: u32, val: u32): u32 {
  if (i >= arrLen(path)) return val;
  const obj = base != 0 && load<u8>(base) == T_OBJECT ? copyObject(base) : newObject(0);
  const key = arrGet(path, i);
  const j = collIndexOf(obj, key);
  const child = j < 0 ? 0 : objVal(obj, <u32>j);
  objInsert(obj, key, upsertFrom(child, path, i + 1, val));
  return obj;
}

/**
 * internal.print: `args` is an array with one set per printed operand (the set of its values,
 * empty when undefined). Writes them separated by spaces through opa_println.
 */
export function rt_print(args: u32): u32 {
  if (load<u8>(args) != T_ARRAY) return 0;
  const n = arrLen(args);
  let total: u32 = 0;
  const texts = alloc(n << 3);
  for (let i: u32 = 0; i < n; i++) {
    let v = arrGet(args, i);
    if (load<u8>(v) == T_SET) v = collLen(v) == 0 ? 0 : collKey(v, 0);
    let p: u32;
    let len: u32;
    if (v == 0) {
      p = memory.data<u8>([60, 117, 110, 100, 101, 102, 105, 110, 101, 100, 62]);
      len = 11;
    } else if (load<u8>(v) == T_STRING) {
      p = load<u32>(v, 8);
      len = load<u32>(v, 4);
    } else {
      p = dumpText(v, true);
      len = 0;
      while (load<u8>(p + len) != 0) len++;
    }
    store<u32>(texts + (i << 3), p);
    store<u32>(texts + (i << 3), len, 4);
    total += len + 1;
  }
  const out = alloc(total + 1);
  let o = out;
  for (let i: u32 = 0; i < n; i++) {
    if (i > 0) store<u8>(o++, 32);
    const len = load<u32>(texts + (i << 3), 4);
    memory.copy(o, load<u32>(texts + (i << 3)), len);
    o += len;
  }
  store<u8>(o, 0);
  opa_println(out);
  return newBool(true);
}

/** Raises a runtime error (conflicts and the like): the SDK throws the message. */
export function rt_abort(msg: u32): void {
  opa_abort(msg);
  unreachable();
}

/** Whether a value is a set, object or array (IsSet/IsObject/IsArray as one call). */
export function rt_is_type(v: u32, t: i32): i32 {
  return v != 0 && <i32>load<u8>(v) == t ? 1 : 0;
}

/**
 * Strict builtin errors: aborts with "<name>: <message>", the message being the last error a
 * builtin recorded or "invalid argument".
 */
export function rt_builtin_error(name: u32): void {
  const msg = lastError != 0 ? lastError : INVALID_ARGUMENT;
  let nlen: u32 = 0;
  while (load<u8>(name + nlen) != 0) nlen++;
  let mlen: u32 = 0;
  while (load<u8>(msg + mlen) != 0) mlen++;
  const buf = alloc(nlen + mlen + 3);
  memory.copy(buf, name, nlen);
  store<u8>(buf + nlen, 58);
  store<u8>(buf + nlen + 1, 32);
  memory.copy(buf + nlen + 2, msg, mlen);
  store<u8>(buf + nlen + 2 + mlen, 0);
  opa_abort(buf);
  unreachable();
}

/** Clears the recorded builtin error before an evaluation. */
export function rt_clear_error(): void {
  setError(0);
}

// "invalid argument"
const INVALID_ARGUMENT: u32 = memory.data<u8>([
  105, 110, 118, 97, 108, 105, 100, 32, 97, 114, 103, 117, 109, 101, 110, 116, 0,
]);

// "$pgwarden.number"
const NUMBER_MARK: u32 = memory.data<u8>([
  36, 112, 103, 119, 97, 114, 100, 101, 110, 46, 110, 117, 109, 98, 101, 114,
]);

/** True for numbers a JavaScript double cannot hold exactly. */
function inexactInJs(v: u32): bool {
  const t = load<u8>(v);
  if (t == T_INT) {
    const n = load<i64>(v, 8);
    return n > 9007199254740991 || n < -9007199254740991;
  }
  return t == T_NUMREF;
}

/**
 * A copy of `v` in which numbers a double cannot hold are `{"$pgwarden.number": "<text>"}`, so a
 * host builtin that formats numbers (sprintf) sees every digit. Other values are shared.
 */
export function rt_exact_numbers(v: u32): u32 {
  const t = load<u8>(v);
  if (t == T_INT || t == T_NUMREF) {
    if (!inexactInJs(v)) return v;
    const o = newObject(1);
    objInsert(o, newString(NUMBER_MARK, 16), dumpToString(v, false));
    return o;
  }
  if (t == T_ARRAY) {
    const n = arrLen(v);
    const r = newArray(n);
    for (let i: u32 = 0; i < n; i++) arrAppend(r, rt_exact_numbers(arrGet(v, i)));
    return r;
  }
  if (t == T_OBJECT) {
    const n = collLen(v);
    const r = newObject(n);
    for (let i: u32 = 0; i < n; i++) objInsert(r, collKey(v, i), rt_exact_numbers(objVal(v, i)));
    return r;
  }
  return v;
}

/**
 * Iteration order for ScanStmt: 0 for arrays (index order), else the sorted entry order of an
 * object or set, as OPA iterates them.
 */
export function rt_iter_order(v: u32): u32 {
  const t = load<u8>(v);
  if ((t != T_OBJECT && t != T_SET) || collLen(v) < 2) return 0;
  return sortedOrder(v);
}

/** The Rego type names of an array's elements (for strict builtin error messages). */
export function rt_type_names(args: u32): u32 {
  const n = arrLen(args);
  const r = newArray(n);
  for (let i: u32 = 0; i < n; i++) arrAppend(r, rt_type_name(arrGet(args, i)));
  return r;
}

/** Aborts with "<name>: <msg>" when `msg` is a string value, else as rt_builtin_error. */
export function rt_abort_message(name: u32, msg: u32): void {
  if (msg == 0 || load<u8>(msg) != T_STRING) {
    rt_builtin_error(name);
    return;
  }
  let nlen: u32 = 0;
  while (load<u8>(name + nlen) != 0) nlen++;
  const mlen = load<u32>(msg, 4);
  const buf = alloc(nlen + mlen + 3);
  memory.copy(buf, name, nlen);
  store<u8>(buf + nlen, 58);
  store<u8>(buf + nlen + 1, 32);
  memory.copy(buf + nlen + 2, load<u32>(msg, 8), mlen);
  store<u8>(buf + nlen + 2 + mlen, 0);
  opa_abort(buf);
  unreachable();
}

/**
 * internal.walk: every [path, value] pair of a document, the document itself first, then its
 * children depth-first (objects and sets in sorted order). The planner iterates this array for
 * `walk(x, [path, value])`.
 */
export function rt_walk(x: u32): u32 {
  const out = newArray(8);
  walkInto(out, newArray(0), x);
  return out;
}

function walkInto(out: u32, path: u32, v: u32): void {
  const pair = newArray(2);
  arrAppend(pair, path);
  arrAppend(pair, v);
  arrAppend(out, pair);
  const t = load<u8>(v);
  if (t != T_ARRAY && t != T_OBJECT && t != T_SET) return;
  const n = <u32>rt_coll_len(v);
  const order = rt_iter_order(v);
  for (let i: u32 = 0; i < n; i++) {
    const at = order != 0 ? load<u32>(order + (i << 2)) : i;
    const child = newArray(arrLen(path) + 1);
    for (let j: u32 = 0; j < arrLen(path); j++) arrAppend(child, arrGet(path, j));
    arrAppend(child, rt_key_at(v, <i32>at));
    walkInto(out, child, rt_val_at(v, <i32>at));
  }
}

/**
 * Generated code: a value as its Rego text (sets kept), in a string value. Host builtins that
 * must see sets get their arguments so: the SDK hands host builtins JSON, where sets are arrays.
 */
export function rt_value_text(v: u32): u32 {
  return dumpToString(v, true);
}

/** Generated code: the value a set-aware host builtin returned as Rego text; 0 when none. */
export function rt_value_from_text(s: u32): u32 {
  if (s == 0 || load<u8>(s) != T_STRING) return 0;
  return parseText(load<u32>(s, 8), load<u32>(s, 4), true);
}
