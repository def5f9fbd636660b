// OPA's total order on values, equality, and hashing.
//
// Order: null < boolean < number < string < array < object < set. Arrays compare element-wise
// then by length; objects compare by their sorted keys (key, then value, pairwise) then size;
// sets by their sorted elements then size. Equality has a faster path that needs no sorting.

import {
  T_NULL, T_BOOL, T_INT, T_FLOAT, T_NUMREF, T_STRING, T_ARRAY, T_OBJECT, T_SET,
  rank, arrLen, arrGet, collLen, collKey, objVal,
} from './value';
import { bytesCompare, bytesEqual, alloc, evalHeapStart } from './mem';
import { numCompare, numF64 } from './number';
import { collIndexOf } from './coll';

/** OPA's total order: negative, zero or positive. */
export function compare(a: u32, b: u32): i32 {
  if (a == b) return 0;
  const ta = load<u8>(a);
  const tb = load<u8>(b);
  const ra = rank(ta);
  const rb = rank(tb);
  if (ra != rb) return ra < rb ? -1 : 1;
  switch (ta) {
    case T_NULL:
      return 0;
    case T_BOOL: {
      const x = load<i32>(a, 4);
      const y = load<i32>(b, 4);
      return x == y ? 0 : x < y ? -1 : 1;
    }
    case T_STRING:
      return bytesCompare(load<u32>(a, 8), load<u32>(a, 4), load<u32>(b, 8), load<u32>(b, 4));
    case T_ARRAY: {
      const la = arrLen(a);
      const lb = arrLen(b);
      const n = la < lb ? la : lb;
      for (let i: u32 = 0; i < n; i++) {
        const c = compare(arrGet(a, i), arrGet(b, i));
        if (c != 0) return c;
      }
      return la == lb ? 0 : la < lb ? -1 : 1;
    }
    case T_OBJECT:
    case T_SET: {
      const la = collLen(a);
      const lb = collLen(b);
      const sa = sortedOrder(a);
      const sb = sortedOrder(b);
      const n = la < lb ? la : lb;
      for (let i: u32 = 0; i < n; i++) {
        const ia = load<u32>(sa + (i << 2));
        const ib = load<u32>(sb + (i << 2));
        let c = compare(collKey(a, ia), collKey(b, ib));
        if (c != 0) return c;
        if (ta == T_OBJECT) {
          c = compare(objVal(a, ia), objVal(b, ib));
          if (c != 0) return c;
        }
      }
      return la == lb ? 0 : la < lb ? -1 : 1;
    }
    default:
      return numCompare(a, b);
  }
}

/** Rego equality (1 == 1.0; objects and sets regardless of order). */
export function equal(a: u32, b: u32): bool {
  if (a == b) return true;
  const ta = load<u8>(a);
  const tb = load<u8>(b);
  if (ta != tb) {
    if (rank(ta) != 3 || rank(tb) != 3) return false;
    return numCompare(a, b) == 0;
  }
  switch (ta) {
    case T_NULL:
      return true;
    case T_BOOL:
      return load<i32>(a, 4) == load<i32>(b, 4);
    case T_INT:
      return load<i64>(a, 8) == load<i64>(b, 8);
    case T_STRING: {
      const len = load<u32>(a, 4);
      return len == load<u32>(b, 4) && bytesEqual(load<u32>(a, 8), load<u32>(b, 8), len);
    }
    case T_ARRAY: {
      const n = arrLen(a);
      if (n != arrLen(b)) return false;
      for (let i: u32 = 0; i < n; i++) if (!equal(arrGet(a, i), arrGet(b, i))) return false;
      return true;
    }
    case T_OBJECT: {
      const n = collLen(a);
      if (n != collLen(b)) return false;
      for (let i: u32 = 0; i < n; i++) {
        const j = collIndexOf(b, collKey(a, i));
        if (j < 0 || !equal(objVal(a, i), objVal(b, <u32>j))) return false;
      }
      return true;
    }
    case T_SET: {
      const n = collLen(a);
      if (n != collLen(b)) return false;
      for (let i: u32 = 0; i < n; i++) if (collIndexOf(b, collKey(a, i)) < 0) return false;
      return true;
    }
    default:
      return numCompare(a, b) == 0;
  }
}

function mix(h: u32): u32 {
  h ^= h >> 16;
  h *= 0x85ebca6b;
  h ^= h >> 13;
  h *= 0xc2b2ae35;
  h ^= h >> 16;
  return h;
}

/** A hash consistent with `equal` (equal numbers of different kinds hash alike). */
export function hash(v: u32): u32 {
  const t = load<u8>(v);
  switch (t) {
    case T_NULL:
      return 0x9e3779b9;
    case T_BOOL:
      return 0x7f4a7c15 + <u32>load<i32>(v, 4);
    case T_STRING: {
      // FNV-1a over the bytes.
      let h: u32 = 0x811c9dc5;
      const p = load<u32>(v, 8);
      const n = load<u32>(v, 4);
      for (let i: u32 = 0; i < n; i++) h = (h ^ load<u8>(p + i)) * 16777619;
      return h;
    }
    case T_ARRAY: {
      let h: u32 = 0x3c6ef372;
      const n = arrLen(v);
      for (let i: u32 = 0; i < n; i++) h = mix(h * 31 + hash(arrGet(v, i)));
      return h;
    }
    case T_OBJECT: {
      // Order-independent: a sum over the entries.
      let h: u32 = 0xa54ff53a;
      const n = collLen(v);
      for (let i: u32 = 0; i < n; i++) h += mix(hash(collKey(v, i)) * 31 + hash(objVal(v, i)));
      return h;
    }
    case T_SET: {
      let h: u32 = 0x510e527f;
      const n = collLen(v);
      for (let i: u32 = 0; i < n; i++) h += mix(hash(collKey(v, i)));
      return h;
    }
    default: {
      if (t == T_INT) {
        const n = load<i64>(v, 8);
        // Small integers hash their own bits; doubles that equal them do the same below.
        return mix(<u32>n ^ <u32>(n >> 32));
      }
      const f = numF64(v);
      if (f == Math.floor(f) && Math.abs(f) < 9.2e18) {
        const n = <i64>f;
        return mix(<u32>n ^ <u32>(n >> 32));
      }
      const bits = reinterpret<u64>(f);
      return mix(<u32>bits ^ <u32>(bits >> 32));
    }
  }
}

/**
 * Entry numbers of an object or set, ordered by key. The order is cached in the collection
 * (+28) until an entry is added, so iteration, comparison and dumps sort a collection once.
 */
export function sortedOrder(v: u32): u32 {
  const cached = load<u32>(v, 28);
  if (cached != 0) return cached;
  const idx = computeOrder(v);
  // Only collections made during this evaluation keep it: `idx` dies with the evaluation.
  if (v >= evalHeapStart) store<u32>(v, idx, 28);
  return idx;
}

/**
 * Caches the sorted order of every object and set inside `v`. Used for data, which is parsed
 * once and iterated by many evaluations: their caches must live below the evaluation heap.
 */
export function precomputeOrders(v: u32): void {
  const t = load<u8>(v);
  if (t == T_ARRAY) {
    for (let i: u32 = 0; i < arrLen(v); i++) precomputeOrders(arrGet(v, i));
    return;
  }
  if (t != T_OBJECT && t != T_SET) return;
  const n = collLen(v);
  if (n >= 2) store<u32>(v, computeOrder(v), 28);
  for (let i: u32 = 0; i < n; i++) {
    precomputeOrders(t == T_OBJECT ? objVal(v, i) : collKey(v, i));
  }
}

function computeOrder(v: u32): u32 {
  const n = collLen(v);
  const idx = alloc((n << 2) + 4);
  for (let i: u32 = 0; i < n; i++) store<u32>(idx + (i << 2), i);
  if (n < 2) return idx;
  if (n <= 12) {
    // Insertion sort: small collections are the common case.
    for (let i: u32 = 1; i < n; i++) {
      const cur = load<u32>(idx + (i << 2));
      const k = collKey(v, cur);
      let j = i;
      while (j > 0) {
        const prev = load<u32>(idx + ((j - 1) << 2));
        if (compare(collKey(v, prev), k) <= 0) break;
        store<u32>(idx + (j << 2), prev);
        j--;
      }
      store<u32>(idx + (j << 2), cur);
    }
    return idx;
  }
  const tmp = alloc(n << 2);
  mergeSort(v, idx, tmp, 0, n);
  return idx;
}

function mergeSort(v: u32, idx: u32, tmp: u32, lo: u32, hi: u32): void {
  if (hi - lo < 2) return;
  const mid = (lo + hi) >> 1;
  mergeSort(v, idx, tmp, lo, mid);
  mergeSort(v, idx, tmp, mid, hi);
  let i = lo;
  let j = mid;
  let k = lo;
  while (i < mid && j < hi) {
    const a = load<u32>(idx + (i << 2));
    const b = load<u32>(idx + (j << 2));
    if (compare(collKey(v, a), collKey(v, b)) <= 0) {
      store<u32>(tmp + (k++ << 2), a);
      i++;
    } else {
      store<u32>(tmp + (k++ << 2), b);
      j++;
    }
  }
  while (i < mid) store<u32>(tmp + (k++ << 2), load<u32>(idx + (i++ << 2)));
  while (j < hi) store<u32>(tmp + (k++ << 2), load<u32>(idx + (j++ << 2)));
  memory.copy(idx + (lo << 2), tmp + (lo << 2), (hi - lo) << 2);
}

/** Sorts a u32 array of value pointers in place by `compare` (for sort() and set dumps). */
export function sortValues(p: u32, n: u32): void {
  for (let i: u32 = 1; i < n; i++) {
    const cur = load<u32>(p + (i << 2));
    let j = i;
    while (j > 0) {
      const prev = load<u32>(p + ((j - 1) << 2));
      if (compare(prev, cur) <= 0) break;
      store<u32>(p + (j << 2), prev);
      j--;
    }
    store<u32>(p + (j << 2), cur);
    if (n > 32 && i == 32) {
      // Large inputs: fall back to a merge sort over the whole array.
      mergeValues(p, n);
      return;
    }
  }
}

function mergeValues(p: u32, n: u32): void {
  const tmp = alloc(n << 2);
  let width: u32 = 1;
  let src = p;
  let dst = tmp;
  while (width < n) {
    for (let lo: u32 = 0; lo < n; lo += width << 1) {
      const mid = lo + width < n ? lo + width : n;
      const hi = lo + (width << 1) < n ? lo + (width << 1) : n;
      let i = lo;
      let j = mid;
      let k = lo;
      while (i < mid && j < hi) {
        const a = load<u32>(src + (i << 2));
        const b = load<u32>(src + (j << 2));
        if (compare(a, b) <= 0) {
          store<u32>(dst + (k++ << 2), a);
          i++;
        } else {
          store<u32>(dst + (k++ << 2), b);
          j++;
        }
      }
      while (i < mid) store<u32>(dst + (k++ << 2), load<u32>(src + (i++ << 2)));
      while (j < hi) store<u32>(dst + (k++ << 2), load<u32>(src + (j++ << 2)));
    }
    const t = src;
    src = dst;
    dst = t;
    width <<= 1;
  }
  if (src != p) memory.copy(p, src, n << 2);
}

export { T_FLOAT, T_NUMREF };
