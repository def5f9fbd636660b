// Object, array and set builtins evaluated inside the module.

import {
  T_STRING, T_ARRAY, T_OBJECT, T_SET, newArray, arrAppend, arrLen, arrGet, newObject, newSet,
  collLen, collKey, objVal, isNumber,
} from './value';
import { collIndexOf, collAppend, objInsert, setAdd } from './coll';
import { numToI64, i64Out } from './number';
import { newBool } from './value';
import { equal } from './compare';

/** object.get(obj, key, default); an array key is a path into nested objects and arrays. */
export function rt_object_get(obj: u32, key: u32, dflt: u32): u32 {
  if (load<u8>(obj) != T_OBJECT) return 0;
  if (load<u8>(key) != T_ARRAY) {
    const i = collIndexOf(obj, key);
    return i < 0 ? dflt : objVal(obj, <u32>i);
  }
  let cur = obj;
  for (let k: u32 = 0; k < arrLen(key); k++) {
    const r = rt_dot(cur, arrGet(key, k));
    if (r == 0) return dflt;
    cur = r;
  }
  return cur;
}

/** Builtin `object.keys`; 0 when its result is undefined (see RUNTIME_BUILTINS). */
export function rt_object_keys(obj: u32): u32 {
  if (load<u8>(obj) != T_OBJECT) return 0;
  const n = collLen(obj);
  const r = newSet(n);
  for (let i: u32 = 0; i < n; i++) collAppend(r, collKey(obj, i), 0);
  return r;
}

/** A set of keys from a set, array or object's keys (object.remove / object.filter). */
function keySet(keys: u32): u32 {
  const t = load<u8>(keys);
  if (t == T_SET) return keys;
  const r = newSet(0);
  if (t == T_ARRAY) for (let i: u32 = 0; i < arrLen(keys); i++) setAdd(r, arrGet(keys, i));
  else if (t == T_OBJECT) for (let i: u32 = 0; i < collLen(keys); i++) setAdd(r, collKey(keys, i));
  else return 0;
  return r;
}

/** Builtin `object.remove`; 0 when its result is undefined (see RUNTIME_BUILTINS). */
export function rt_object_remove(obj: u32, keys: u32): u32 {
  if (load<u8>(obj) != T_OBJECT) return 0;
  const ks = keySet(keys);
  if (ks == 0) return 0;
  const r = newObject(collLen(obj));
  for (let i: u32 = 0; i < collLen(obj); i++) {
    const k = collKey(obj, i);
    if (collIndexOf(ks, k) < 0) collAppend(r, k, objVal(obj, i));
  }
  return r;
}

/** Builtin `object.filter`; 0 when its result is undefined (see RUNTIME_BUILTINS). */
export function rt_object_filter(obj: u32, keys: u32): u32 {
  if (load<u8>(obj) != T_OBJECT) return 0;
  const ks = keySet(keys);
  if (ks == 0) return 0;
  const r = newObject(0);
  for (let i: u32 = 0; i < collLen(obj); i++) {
    const k = collKey(obj, i);
    if (collIndexOf(ks, k) >= 0) collAppend(r, k, objVal(obj, i));
  }
  return r;
}

/** Recursive merge where `b` wins, as object.union. */
export function mergeObjects(a: u32, b: u32): u32 {
  const r = newObject(collLen(a) + collLen(b));
  for (let i: u32 = 0; i < collLen(a); i++) collAppend(r, collKey(a, i), objVal(a, i));
  for (let i: u32 = 0; i < collLen(b); i++) {
    const k = collKey(b, i);
    const v = objVal(b, i);
    const j = collIndexOf(r, k);
    if (j < 0) {
      collAppend(r, k, v);
      continue;
    }
    const old = objVal(r, <u32>j);
    const merged = load<u8>(old) == T_OBJECT && load<u8>(v) == T_OBJECT ? mergeObjects(old, v) : v;
    store<u32>(load<u32>(r, 16) + (<u32>j << 2), merged);
  }
  return r;
}

/** Builtin `object.union`; 0 when its result is undefined (see RUNTIME_BUILTINS). */
export function rt_object_union(a: u32, b: u32): u32 {
  if (load<u8>(a) != T_OBJECT || load<u8>(b) != T_OBJECT) return 0;
  return mergeObjects(a, b);
}

/** Builtin `array.concat`; 0 when its result is undefined (see RUNTIME_BUILTINS). */
export function rt_array_concat(a: u32, b: u32): u32 {
  if (load<u8>(a) != T_ARRAY || load<u8>(b) != T_ARRAY) return 0;
  const r = newArray(arrLen(a) + arrLen(b));
  for (let i: u32 = 0; i < arrLen(a); i++) arrAppend(r, arrGet(a, i));
  for (let i: u32 = 0; i < arrLen(b); i++) arrAppend(r, arrGet(b, i));
  return r;
}

/** array.slice(arr, start, stop) with OPA's clamping of out-of-range indices. */
export function rt_array_slice(a: u32, start: u32, stop: u32): u32 {
  if (load<u8>(a) != T_ARRAY || !isNumber(start) || !isNumber(stop)) return 0;
  if (!numToI64(start)) return 0;
  let s = i64Out;
  if (!numToI64(stop)) return 0;
  let e = i64Out;
  const n = <i64>arrLen(a);
  if (s < 0) s = 0;
  if (e > n) e = n;
  const r = newArray(0);
  for (let i = s; i < e; i++) arrAppend(r, arrGet(a, <u32>i));
  return r;
}

/** Builtin `array.reverse`; 0 when its result is undefined (see RUNTIME_BUILTINS). */
export function rt_array_reverse(a: u32): u32 {
  if (load<u8>(a) != T_ARRAY) return 0;
  const n = arrLen(a);
  const r = newArray(n);
  for (let i: u32 = 0; i < n; i++) arrAppend(r, arrGet(a, n - 1 - i));
  return r;
}

/** intersection(set of sets). */
export function rt_intersection(xs: u32): u32 {
  if (load<u8>(xs) != T_SET) return 0;
  const n = collLen(xs);
  if (n == 0) return newSet(0);
  let acc = collKey(xs, 0);
  if (load<u8>(acc) != T_SET) return 0;
  for (let i: u32 = 1; i < n; i++) {
    const s = collKey(xs, i);
    if (load<u8>(s) != T_SET) return 0;
    const r = newSet(0);
    for (let j: u32 = 0; j < collLen(acc); j++) {
      const e = collKey(acc, j);
      if (collIndexOf(s, e) >= 0) collAppend(r, e, 0);
    }
    acc = r;
  }
  return acc;
}

/** union(set of sets). */
export function rt_union(xs: u32): u32 {
  if (load<u8>(xs) != T_SET) return 0;
  const r = newSet(0);
  for (let i: u32 = 0; i < collLen(xs); i++) {
    const s = collKey(xs, i);
    if (load<u8>(s) != T_SET) return 0;
    for (let j: u32 = 0; j < collLen(s); j++) setAdd(r, collKey(s, j));
  }
  return r;
}

/**
 * `v[key]`: object lookup, array index (integral numbers only) or set membership (the element
 * itself). 0 when undefined.
 */
export function rt_dot(v: u32, key: u32): u32 {
  const t = load<u8>(v);
  if (t == T_OBJECT) {
    const i = collIndexOf(v, key);
    return i < 0 ? 0 : objVal(v, <u32>i);
  }
  if (t == T_ARRAY) {
    if (!isNumber(key) || !numToI64(key)) return 0;
    const i = i64Out;
    if (i < 0 || i >= <i64>arrLen(v)) return 0;
    return arrGet(v, <u32>i);
  }
  if (t == T_SET) {
    const i = collIndexOf(v, key);
    return i < 0 ? 0 : collKey(v, <u32>i);
  }
  return 0;
}

/** `obj[key] = val` once: 0 when the key already holds a different value (a conflict). */
export function rt_object_insert_once(obj: u32, key: u32, val: u32): i32 {
  const i = collIndexOf(obj, key);
  if (i < 0) {
    collAppend(obj, key, val);
    return 1;
  }
  return equal(objVal(obj, <u32>i), val) ? 1 : 0;
}

/** ObjectMergeStmt: recursive merge where `a` wins on conflicts; 0 when not both objects. */
export function rt_object_merge(a: u32, b: u32): u32 {
  if (load<u8>(a) != T_OBJECT || load<u8>(b) != T_OBJECT) return 0;
  return mergeObjects(b, a);
}

/** Generated code: ObjectInsertStmt (overwrites). */
export function rt_object_insert(obj: u32, key: u32, val: u32): void {
  objInsert(obj, key, val);
}

/** Generated code: SetAddStmt. */
export function rt_set_add(set: u32, e: u32): void {
  setAdd(set, e);
}

/** walk-free helper: whether `v` is a string (used by generated code for object keys). */
export function rt_is_string_value(v: u32): u32 {
  return newBool(load<u8>(v) == T_STRING);
}

/**
 * object.subset(super, sub): objects recursively (every key of sub in super with a value that is
 * itself a subset); sets by membership; arrays as a contiguous run; a set of an array's
 * elements regardless of order. Other values compare equal.
 */
export function rt_object_subset(sup: u32, sub: u32): u32 {
  const ts = load<u8>(sup);
  const tb = load<u8>(sub);
  if (!isCollection(ts) || !isCollection(tb)) return 0;
  return newBool(subsetOf(sup, sub));
}

function isCollection(t: u8): bool {
  return t == T_OBJECT || t == T_SET || t == T_ARRAY;
}

function subsetOf(sup: u32, sub: u32): bool {
  const ts = load<u8>(sup);
  const tb = load<u8>(sub);
  if (ts == T_OBJECT && tb == T_OBJECT) {
    for (let i: u32 = 0; i < collLen(sub); i++) {
      const j = collIndexOf(sup, collKey(sub, i));
      if (j < 0 || !subsetOf(objVal(sup, <u32>j), objVal(sub, i))) return false;
    }
    return true;
  }
  if (ts == T_SET && tb == T_SET) {
    for (let i: u32 = 0; i < collLen(sub); i++) {
      if (collIndexOf(sup, collKey(sub, i)) < 0) return false;
    }
    return true;
  }
  if (ts == T_ARRAY && tb == T_SET) {
    for (let i: u32 = 0; i < collLen(sub); i++) {
      let found = false;
      for (let j: u32 = 0; j < arrLen(sup) && !found; j++) {
        found = equal(arrGet(sup, j), collKey(sub, i));
      }
      if (!found) return false;
    }
    return true;
  }
  if (ts == T_ARRAY && tb == T_ARRAY) {
    const n = arrLen(sub);
    const m = arrLen(sup);
    if (n == 0) return true;
    for (let start: u32 = 0; start + n <= m; start++) {
      let all = true;
      for (let k: u32 = 0; k < n && all; k++) all = equal(arrGet(sup, start + k), arrGet(sub, k));
      if (all) return true;
    }
    return false;
  }
  return equal(sup, sub);
}
