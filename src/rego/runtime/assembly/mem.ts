// Memory management for the policy runtime.
//
// The OPA SDK owns the heap pointer: it reads it after loading data and resets it before every
// evaluation (opa_eval receives the new pointer). So the runtime never frees; it bumps a pointer
// over the imported memory and grows that memory when an allocation would pass its end. No
// AssemblyScript managed object is ever allocated at evaluation time: everything is raw memory.

/** First free byte. The generated start function moves it past the policy's statics. */
export let heapPtr: u32 = <u32>__heap_base;

/**
 * Where the current evaluation's heap began. Values below it (data, loaded once) outlive the
 * evaluation's allocations, so nothing allocated now may be cached inside them.
 */
export let evalHeapStart: u32 = u32.MAX_VALUE;

/** Moves the heap pointer, starting a new evaluation's heap there. */
export function resetHeap(p: u32): void {
  heapPtr = p;
  evalHeapStart = p;
}

/** Allocates `size` bytes, 8-byte aligned. Never returns 0. */
// @ts-ignore: decorator
@inline
export function alloc(size: u32): u32 {
  // The SDK restarts the heap right after the input text, which need not be aligned.
  const ptr = (heapPtr + 7) & ~7;
  const end = ptr + ((size + 7) & ~7);
  if (end > (<u32>memory.size() << 16)) grow(end);
  heapPtr = end;
  return ptr;
}

function grow(end: u32): void {
  const have = <u32>memory.size();
  const need = ((end + 0xffff) >> 16) - have;
  // Double at least, so appending loops do not call memory.grow each time.
  const pages = need > have ? need : have;
  if (memory.grow(<i32>pages) < 0) {
    if (memory.grow(<i32>need) < 0) unreachable();
  }
}

/** Allocates and zeroes `size` bytes. */
export function allocZero(size: u32): u32 {
  const ptr = alloc(size);
  memory.fill(ptr, 0, size);
  return ptr;
}

/** Copies `len` bytes from `src` into fresh memory. */
export function dup(src: u32, len: u32): u32 {
  const ptr = alloc(len);
  memory.copy(ptr, src, len);
  return ptr;
}

/** Byte-wise comparison of two byte ranges, as Go compares strings. */
export function bytesCompare(a: u32, alen: u32, b: u32, blen: u32): i32 {
  const n = alen < blen ? alen : blen;
  let i: u32 = 0;
  // Compare eight bytes at a time while they are equal.
  while (i + 8 <= n && load<u64>(a + i) == load<u64>(b + i)) i += 8;
  for (; i < n; i++) {
    const x = load<u8>(a + i);
    const y = load<u8>(b + i);
    if (x != y) return x < y ? -1 : 1;
  }
  return alen == blen ? 0 : alen < blen ? -1 : 1;
}

/** True when the two byte ranges hold the same bytes (inlined: keys are short). */
// @ts-ignore: decorator
@inline
export function bytesEqual(a: u32, b: u32, len: u32): bool {
  let i: u32 = 0;
  while (i + 8 <= len) {
    if (load<u64>(a + i) != load<u64>(b + i)) return false;
    i += 8;
  }
  for (; i < len; i++) {
    if (load<u8>(a + i) != load<u8>(b + i)) return false;
  }
  return true;
}

/** Length of a NUL-terminated string. */
export function cstrlen(p: u32): u32 {
  let n: u32 = 0;
  while (load<u8>(p + n) != 0) n++;
  return n;
}
