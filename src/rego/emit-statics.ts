/**
 * Static data of a generated policy: string constants laid out as ready-made runtime values,
 * plus raw text (the `builtins` and `entrypoints` JSON). It is written into memory past the
 * runtime's own static data by the module's start function, and the heap starts after it.
 */

/** Type tag of strings in the runtime's value layout (src/rego/runtime/assembly/value.ts). */
const T_STRING = 6;

/** Collects static bytes at a fixed base address. */
export class StaticData {
  readonly base: number;
  private readonly bytes: number[] = [];
  private readonly strings = new Map<string, { value: number; ptr: number; len: number }>();
  private readonly encoder = new TextEncoder();

  constructor(base: number) {
    this.base = (base + 15) & ~15;
  }

  /** Current end address. */
  get end(): number {
    return this.base + this.bytes.length;
  }

  private align(n: number): void {
    while (this.bytes.length % n !== 0) this.bytes.push(0);
  }

  private u32(v: number): void {
    this.bytes.push(v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff);
  }

  /** Raw bytes; returns their address. */
  raw(data: Uint8Array): number {
    this.align(8);
    const at = this.end;
    for (const b of data) this.bytes.push(b);
    return at;
  }

  /** A NUL-terminated UTF-8 text; returns its address. */
  cstring(text: string): number {
    const data = this.encoder.encode(text);
    const at = this.raw(data);
    this.bytes.push(0);
    return at;
  }

  /** A string value (header + bytes), shared between uses of the same text. */
  string(text: string): { value: number; ptr: number; len: number } {
    const known = this.strings.get(text);
    if (known) return known;
    const data = this.encoder.encode(text);
    this.align(16);
    const value = this.end;
    const ptr = value + 16;
    this.bytes.push(T_STRING, 0, 0, 0);
    this.u32(data.length);
    this.u32(ptr);
    this.u32(0);
    for (const b of data) this.bytes.push(b);
    const entry = { value, ptr, len: data.length };
    this.strings.set(text, entry);
    return entry;
  }

  /** All bytes, padded to a multiple of 8 for 64-bit stores. */
  contents(): Uint8Array {
    this.align(16);
    return Uint8Array.from(this.bytes);
  }
}
