// Core builtins evaluated inside the module: comparison, arithmetic, aggregates and types.
// Each takes value pointers and returns a value pointer, or 0 when the result is undefined
// (a type error in a builtin makes the expression undefined, as in OPA's non-strict mode).

import {
  T_NULL, T_BOOL, T_INT, T_FLOAT, T_STRING, T_ARRAY, T_OBJECT, T_SET,
  newBool, newInt, newFloat, newString, newArray, arrAppend, arrLen, arrGet, newSet,
  collLen, collKey, isNumber,
} from './value';
import { compare, equal, sortValues } from './compare';
import { collIndexOf, setAdd } from './coll';
import { alloc } from './mem';
import {
  numAdd, numSub, numMul, numDiv, numRem, numNeg, numF64, numToI64, i64Out, parseF64, setError,
  lastError, exactArith, hostArith,
} from './number';
import { parseText } from './json';

/** Builtin `equal`; 0 when its result is undefined (see RUNTIME_BUILTINS). */
export function rt_equal(a: u32, b: u32): u32 {
  return newBool(equal(a, b));
}
/** Builtin `neq`; 0 when its result is undefined (see RUNTIME_BUILTINS). */
export function rt_neq(a: u32, b: u32): u32 {
  return newBool(!equal(a, b));
}
/** Builtin `lt`; 0 when its result is undefined (see RUNTIME_BUILTINS). */
export function rt_lt(a: u32, b: u32): u32 {
  return newBool(compare(a, b) < 0);
}
/** Builtin `lte`; 0 when its result is undefined (see RUNTIME_BUILTINS). */
export function rt_lte(a: u32, b: u32): u32 {
  return newBool(compare(a, b) <= 0);
}
/** Builtin `gt`; 0 when its result is undefined (see RUNTIME_BUILTINS). */
export function rt_gt(a: u32, b: u32): u32 {
  return newBool(compare(a, b) > 0);
}
/** Builtin `gte`; 0 when its result is undefined (see RUNTIME_BUILTINS). */
export function rt_gte(a: u32, b: u32): u32 {
  return newBool(compare(a, b) >= 0);
}

/** Raw comparison used by EqualStmt / NotEqualStmt: 1 when equal. */
export function rt_value_equal(a: u32, b: u32): i32 {
  return equal(a, b) ? 1 : 0;
}

/** Comparison for tests: negative, zero or positive. */
export function rt_value_compare(a: u32, b: u32): i32 {
  return compare(a, b);
}

/** Builtin `plus`; 0 when its result is undefined (see RUNTIME_BUILTINS). */
export function rt_plus(a: u32, b: u32): u32 {
  if (!isNumber(a) || !isNumber(b)) return 0;
  return numAdd(a, b);
}

/** `-` is subtraction on numbers and difference on sets. */
export function rt_minus(a: u32, b: u32): u32 {
  if (isNumber(a) && isNumber(b)) return numSub(a, b);
  if (load<u8>(a) == T_SET && load<u8>(b) == T_SET) {
    const r = newSet(collLen(a));
    const n = collLen(a);
    for (let i: u32 = 0; i < n; i++) {
      const e = collKey(a, i);
      if (collIndexOf(b, e) < 0) setAdd(r, e);
    }
    return r;
  }
  return 0;
}

/** Builtin `mul`; 0 when its result is undefined (see RUNTIME_BUILTINS). */
export function rt_mul(a: u32, b: u32): u32 {
  if (!isNumber(a) || !isNumber(b)) return 0;
  return numMul(a, b);
}
/** Builtin `div`; 0 when its result is undefined (see RUNTIME_BUILTINS). */
export function rt_div(a: u32, b: u32): u32 {
  if (!isNumber(a) || !isNumber(b)) return 0;
  return numDiv(a, b);
}
/** Builtin `rem`; 0 when its result is undefined (see RUNTIME_BUILTINS). */
export function rt_rem(a: u32, b: u32): u32 {
  if (!isNumber(a) || !isNumber(b)) return 0;
  return numRem(a, b);
}
/** Builtin `abs`; 0 when its result is undefined (see RUNTIME_BUILTINS). */
export function rt_abs(a: u32): u32 {
  if (!isNumber(a)) return 0;
  return numF64(a) < 0 ? numNeg(a) : a;
}
/** Builtin `round`; 0 when its result is undefined (see RUNTIME_BUILTINS). */
export function rt_round(a: u32): u32 {
  if (!isNumber(a)) return 0;
  if (load<u8>(a) == T_INT) return a;
  if (exactArith()) return hostArith(6, a, 0);
  const f = numF64(a);
  // Round half away from zero, as Go's math.Round.
  return newFloat(f < 0 ? -Math.floor(-f + 0.5) : Math.floor(f + 0.5));
}
/** Builtin `ceil`; 0 when its result is undefined (see RUNTIME_BUILTINS). */
export function rt_ceil(a: u32): u32 {
  if (!isNumber(a)) return 0;
  if (load<u8>(a) == T_INT) return a;
  if (exactArith()) return hostArith(7, a, 0);
  return newFloat(Math.ceil(numF64(a)));
}
/** Builtin `floor`; 0 when its result is undefined (see RUNTIME_BUILTINS). */
export function rt_floor(a: u32): u32 {
  if (!isNumber(a)) return 0;
  if (load<u8>(a) == T_INT) return a;
  if (exactArith()) return hostArith(8, a, 0);
  return newFloat(Math.floor(numF64(a)));
}

/** `&`: set intersection. */
export function rt_and(a: u32, b: u32): u32 {
  if (load<u8>(a) != T_SET || load<u8>(b) != T_SET) return 0;
  const r = newSet(0);
  const n = collLen(a);
  for (let i: u32 = 0; i < n; i++) {
    const e = collKey(a, i);
    if (collIndexOf(b, e) >= 0) setAdd(r, e);
  }
  return r;
}

/** `|`: set union. */
export function rt_or(a: u32, b: u32): u32 {
  if (load<u8>(a) != T_SET || load<u8>(b) != T_SET) return 0;
  const r = newSet(collLen(a) + collLen(b));
  for (let i: u32 = 0; i < collLen(a); i++) setAdd(r, collKey(a, i));
  for (let i: u32 = 0; i < collLen(b); i++) setAdd(r, collKey(b, i));
  return r;
}

/** Number of code points in UTF-8 text. */
export function runeCount(p: u32, n: u32): u32 {
  let c: u32 = 0;
  for (let i: u32 = 0; i < n; i++) if ((load<u8>(p + i) & 0xc0) != 0x80) c++;
  return c;
}

/** Builtin `count`; 0 when its result is undefined (see RUNTIME_BUILTINS). */
export function rt_count(a: u32): u32 {
  const t = load<u8>(a);
  if (t == T_ARRAY) return newInt(arrLen(a));
  if (t == T_OBJECT || t == T_SET) return newInt(collLen(a));
  if (t == T_STRING) return newInt(runeCount(load<u32>(a, 8), load<u32>(a, 4)));
  return 0;
}

// "operand 1 must be one of {array, set}"
const NOT_COLLECTION: u32 = memory.data<u8>([
  111, 112, 101, 114, 97, 110, 100, 32, 49, 32, 109, 117, 115, 116, 32, 98, 101, 32, 111, 110,
  101, 32, 111, 102, 32, 123, 97, 114, 114, 97, 121, 44, 32, 115, 101, 116, 125, 0,
]);

/** Elements of an array or set as a pointer list: count in `listLen`; -1 for other types. */
let listLen: u32 = 0;
function elements(a: u32): i64 {
  const t = load<u8>(a);
  if (t == T_ARRAY) {
    listLen = arrLen(a);
    return <i64>load<u32>(a, 12);
  }
  if (t == T_SET) {
    listLen = collLen(a);
    return <i64>load<u32>(a, 12);
  }
  return -1;
}

/** Builtin `sum`; 0 when its result is undefined (see RUNTIME_BUILTINS). */
export function rt_sum(a: u32): u32 {
  const el = elements(a);
  if (el < 0) return setError(NOT_COLLECTION);
  const p = <u32>el;
  let acc = newInt(0);
  for (let i: u32 = 0; i < listLen; i++) {
    const e = load<u32>(p + (i << 2));
    if (!isNumber(e)) return 0;
    acc = numAdd(acc, e);
  }
  return acc;
}

/** Builtin `product`; 0 when its result is undefined (see RUNTIME_BUILTINS). */
export function rt_product(a: u32): u32 {
  const el = elements(a);
  if (el < 0) return setError(NOT_COLLECTION);
  const p = <u32>el;
  let acc = newInt(1);
  for (let i: u32 = 0; i < listLen; i++) {
    const e = load<u32>(p + (i << 2));
    if (!isNumber(e)) return 0;
    acc = numMul(acc, e);
  }
  return acc;
}

/** Builtin `max`; 0 when its result is undefined (see RUNTIME_BUILTINS). */
export function rt_max(a: u32): u32 {
  if (load<u8>(a) != T_ARRAY && load<u8>(a) != T_SET) return setError(NOT_COLLECTION);
  const el = elements(a);
  if (el < 0 || listLen == 0) return 0;
  const p = <u32>el;
  let best = load<u32>(p);
  for (let i: u32 = 1; i < listLen; i++) {
    const e = load<u32>(p + (i << 2));
    if (compare(e, best) > 0) best = e;
  }
  return best;
}

/** Builtin `min`; 0 when its result is undefined (see RUNTIME_BUILTINS). */
export function rt_min(a: u32): u32 {
  if (load<u8>(a) != T_ARRAY && load<u8>(a) != T_SET) return setError(NOT_COLLECTION);
  const el = elements(a);
  if (el < 0 || listLen == 0) return 0;
  const p = <u32>el;
  let best = load<u32>(p);
  for (let i: u32 = 1; i < listLen; i++) {
    const e = load<u32>(p + (i << 2));
    if (compare(e, best) < 0) best = e;
  }
  return best;
}

/** Builtin `sort`; 0 when its result is undefined (see RUNTIME_BUILTINS). */
export function rt_sort(a: u32): u32 {
  const el = elements(a);
  if (el < 0) return setError(NOT_COLLECTION);
  const p = <u32>el;
  const n = listLen;
  const r = newArray(n);
  memory.copy(load<u32>(r, 12), p, n << 2);
  store<u32>(r, n, 4);
  sortValues(load<u32>(r, 12), n);
  return r;
}

/** Builtin `is_number`; 0 when its result is undefined (see RUNTIME_BUILTINS). */
export function rt_is_number(a: u32): u32 {
  return newBool(isNumber(a));
}
/** Builtin `is_string`; 0 when its result is undefined (see RUNTIME_BUILTINS). */
export function rt_is_string(a: u32): u32 {
  return newBool(load<u8>(a) == T_STRING);
}
/** Builtin `is_boolean`; 0 when its result is undefined (see RUNTIME_BUILTINS). */
export function rt_is_boolean(a: u32): u32 {
  return newBool(load<u8>(a) == T_BOOL);
}
/** Builtin `is_array`; 0 when its result is undefined (see RUNTIME_BUILTINS). */
export function rt_is_array(a: u32): u32 {
  return newBool(load<u8>(a) == T_ARRAY);
}
/** Builtin `is_set`; 0 when its result is undefined (see RUNTIME_BUILTINS). */
export function rt_is_set(a: u32): u32 {
  return newBool(load<u8>(a) == T_SET);
}
/** Builtin `is_object`; 0 when its result is undefined (see RUNTIME_BUILTINS). */
export function rt_is_object(a: u32): u32 {
  return newBool(load<u8>(a) == T_OBJECT);
}
/** Builtin `is_null`; 0 when its result is undefined (see RUNTIME_BUILTINS). */
export function rt_is_null(a: u32): u32 {
  return newBool(load<u8>(a) == T_NULL);
}

const TYPE_NAMES: u32 = memory.data<u8>([
  110, 117, 108, 108, 0, 0, 0, 0, // null
  98, 111, 111, 108, 101, 97, 110, 0, // boolean
  110, 117, 109, 98, 101, 114, 0, 0, // number
  115, 116, 114, 105, 110, 103, 0, 0, // string
  97, 114, 114, 97, 121, 0, 0, 0, // array
  111, 98, 106, 101, 99, 116, 0, 0, // object
  115, 101, 116, 0, 0, 0, 0, 0, // set
]);

/** Builtin `type_name`; 0 when its result is undefined (see RUNTIME_BUILTINS). */
export function rt_type_name(a: u32): u32 {
  const t = load<u8>(a);
  let slot: u32;
  if (t == T_NULL) slot = 0;
  else if (t == T_BOOL) slot = 1;
  else if (isNumber(a)) slot = 2;
  else slot = <u32>t - 3;
  const p = TYPE_NAMES + (slot << 3);
  let n: u32 = 0;
  while (n < 8 && load<u8>(p + n) != 0) n++;
  return newString(p, n);
}

/** Builtin `to_number`; 0 when its result is undefined (see RUNTIME_BUILTINS). */
export function rt_to_number(a: u32): u32 {
  const t = load<u8>(a);
  if (isNumber(a)) return a;
  if (t == T_NULL) return newInt(0);
  if (t == T_BOOL) return newInt(load<i32>(a, 4));
  if (t == T_STRING) {
    const v = parseText(load<u32>(a, 8), load<u32>(a, 4), false);
    if (v == 0 || !isNumber(v)) return 0;
    return v;
  }
  return 0;
}

/** numbers.range(a, b): the integers from a to b inclusive, in either direction. */
export function rt_numbers_range(a: u32, b: u32): u32 {
  if (!isNumber(a) || !isNumber(b) || !numToI64(a)) return 0;
  const x = i64Out;
  if (!numToI64(b)) return 0;
  const y = i64Out;
  const n = <u32>(x < y ? y - x : x - y) + 1;
  const r = newArray(n);
  const step: i64 = x <= y ? 1 : -1;
  for (let i: u32 = 0; i < n; i++) arrAppend(r, newInt(x + step * <i64>i));
  return r;
}

/** internal.member_2: `x in xs` over arrays, sets and object values. */
export function rt_member_2(x: u32, xs: u32): u32 {
  const t = load<u8>(xs);
  if (t == T_SET) return newBool(collIndexOf(xs, x) >= 0);
  if (t == T_ARRAY) {
    for (let i: u32 = 0; i < arrLen(xs); i++) if (equal(arrGet(xs, i), x)) return newBool(true);
    return newBool(false);
  }
  if (t == T_OBJECT) {
    const vals = load<u32>(xs, 16);
    for (let i: u32 = 0; i < collLen(xs); i++) {
      if (equal(load<u32>(vals + (i << 2)), x)) return newBool(true);
    }
    return newBool(false);
  }
  return newBool(false);
}

/** internal.member_3: `k, v in xs`. */
export function rt_member_3(k: u32, v: u32, xs: u32): u32 {
  const t = load<u8>(xs);
  if (t == T_ARRAY) {
    if (!isNumber(k) || !numToI64(k)) return newBool(false);
    const i = i64Out;
    if (i < 0 || i >= <i64>arrLen(xs)) return newBool(false);
    return newBool(equal(arrGet(xs, <u32>i), v));
  }
  if (t == T_OBJECT) {
    const i = collIndexOf(xs, k);
    return newBool(i >= 0 && equal(load<u32>(load<u32>(xs, 16) + (<u32>i << 2)), v));
  }
  if (t == T_SET) return newBool(equal(k, v) && collIndexOf(xs, k) >= 0);
  return newBool(false);
}

export { T_FLOAT, T_INT, alloc, parseF64 };

/** 1 when a builtin recorded an error since the evaluation started. */
export function rt_has_error(): i32 {
  return lastError != 0 ? 1 : 0;
}
