/**
 * Results that must keep every digit: the SDK parses an ArrayBuffer result as raw JSON text in
 * the module (no JavaScript number in between), so nanosecond times and big integers survive.
 */

/** JSON text of an exact integer, as a result the SDK hands to the module unchanged. */
export function exactInt(n: bigint): ArrayBuffer {
  const bytes = new TextEncoder().encode(n.toString());
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}

/** JSON text passed through unchanged (already validated by the caller). */
export function rawJson(text: string): ArrayBuffer {
  const bytes = new TextEncoder().encode(text);
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}

/** An argument as an exact integer: numbers arrive as doubles, so this is exact to 2^53. */
export function toBigInt(v: unknown): bigint | undefined {
  if (typeof v !== 'number' || !Number.isFinite(v)) return undefined;
  return BigInt(Math.trunc(v));
}
