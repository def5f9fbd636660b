// Objects and sets: insertion-ordered entries with a hash index once they grow past a few
// entries. Small collections (the usual policy input) are scanned linearly, which beats hashing
// for a handful of short keys.

import { alloc, allocZero, bytesEqual } from './mem';
import { T_STRING, T_OBJECT, collLen, collKey } from './value';
import { equal, hash } from './compare';

const LINEAR_MAX: u32 = 8;

/** True when key `k` is the string with bytes `p[0..len)`. */
// @ts-ignore: decorator
@inline
function isStringKey(k: u32, p: u32, len: u32): bool {
  return load<u8>(k) == T_STRING && load<u32>(k, 4) == len && bytesEqual(load<u32>(k, 8), p, len);
}

function rebuildIndex(v: u32, cap: u32): void {
  const idx = allocZero(cap << 2);
  const mask = cap - 1;
  const n = collLen(v);
  for (let i: u32 = 0; i < n; i++) {
    let slot = hash(collKey(v, i)) & mask;
    while (load<u32>(idx + (slot << 2)) != 0) slot = (slot + 1) & mask;
    store<u32>(idx + (slot << 2), i + 1);
  }
  store<u32>(v, idx, 20);
  store<u32>(v, cap, 24);
}

/** Entry number of `key` in an object or set, or -1. */
export function collIndexOf(v: u32, key: u32): i32 {
  const n = collLen(v);
  const idx = load<u32>(v, 20);
  if (idx == 0) {
    const keys = load<u32>(v, 12);
    if (load<u8>(key) == T_STRING) {
      // Strings dominate object keys: compare lengths and bytes without a call per entry.
      const len = load<u32>(key, 4);
      const kp = load<u32>(key, 8);
      for (let i: u32 = 0; i < n; i++) {
        const k = load<u32>(keys + (i << 2));
        if (isStringKey(k, kp, len)) {
          return <i32>i;
        }
      }
      return -1;
    }
    for (let i: u32 = 0; i < n; i++) if (equal(load<u32>(keys + (i << 2)), key)) return <i32>i;
    return -1;
  }
  const mask = load<u32>(v, 24) - 1;
  let slot = hash(key) & mask;
  for (;;) {
    const e = load<u32>(idx + (slot << 2));
    if (e == 0) return -1;
    if (equal(collKey(v, e - 1), key)) return <i32>(e - 1);
    slot = (slot + 1) & mask;
  }
  // Not reached: the loop above always returns.
  return -1;
}

/** Entry number of the string key with these bytes, or -1 (no key value needed). */
export function objIndexOfStr(v: u32, p: u32, len: u32): i32 {
  const idx = load<u32>(v, 20);
  if (idx != 0) {
    // Hash exactly as `hash` does for strings.
    let h: u32 = 0x811c9dc5;
    for (let i: u32 = 0; i < len; i++) h = (h ^ load<u8>(p + i)) * 16777619;
    const mask = load<u32>(v, 24) - 1;
    let slot = h & mask;
    for (;;) {
      const e = load<u32>(idx + (slot << 2));
      if (e == 0) return -1;
      const k = collKey(v, e - 1);
      if (isStringKey(k, p, len)) {
        return <i32>(e - 1);
      }
      slot = (slot + 1) & mask;
    }
  }
  const n = collLen(v);
  const keys = load<u32>(v, 12);
  for (let i: u32 = 0; i < n; i++) {
    const k = load<u32>(keys + (i << 2));
    if (isStringKey(k, p, len)) {
      return <i32>i;
    }
  }
  return -1;
}

/** Appends an entry known to be new; keeps the index current. */
export function collAppend(v: u32, key: u32, val: u32): void {
  const n = collLen(v);
  let cap = load<u32>(v, 8);
  if (n == cap) {
    const ncap = cap < 4 ? 4 : cap << 1;
    const keys = alloc(ncap << 2);
    if (n > 0) memory.copy(keys, load<u32>(v, 12), n << 2);
    store<u32>(v, keys, 12);
    if (load<u8>(v) == T_OBJECT) {
      const vals = alloc(ncap << 2);
      if (n > 0) memory.copy(vals, load<u32>(v, 16), n << 2);
      store<u32>(v, vals, 16);
    }
    store<u32>(v, ncap, 8);
    cap = ncap;
  }
  store<u32>(v, 0, 28); // the cached sorted order no longer covers every entry
  store<u32>(load<u32>(v, 12) + (n << 2), key);
  if (load<u8>(v) == T_OBJECT) store<u32>(load<u32>(v, 16) + (n << 2), val);
  store<u32>(v, n + 1, 4);

  const icap = load<u32>(v, 24);
  if (icap == 0) {
    if (n + 1 > LINEAR_MAX) rebuildIndex(v, 32);
  } else if ((n + 1) * 2 > icap) {
    rebuildIndex(v, icap << 1);
  } else {
    const idx = load<u32>(v, 20);
    const mask = icap - 1;
    let slot = hash(key) & mask;
    while (load<u32>(idx + (slot << 2)) != 0) slot = (slot + 1) & mask;
    store<u32>(idx + (slot << 2), n + 1);
  }
}

/** Sets `obj[key] = val`, replacing an existing value. */
export function objInsert(obj: u32, key: u32, val: u32): void {
  const i = collIndexOf(obj, key);
  if (i >= 0) {
    store<u32>(load<u32>(obj, 16) + (<u32>i << 2), val);
    return;
  }
  collAppend(obj, key, val);
}

/** The value under `key`, or 0. */
export function objGet(obj: u32, key: u32): u32 {
  const i = collIndexOf(obj, key);
  return i < 0 ? 0 : load<u32>(load<u32>(obj, 16) + (<u32>i << 2));
}

/** Adds an element to a set unless present. */
export function setAdd(set: u32, e: u32): void {
  if (collIndexOf(set, e) < 0) collAppend(set, e, 0);
}
