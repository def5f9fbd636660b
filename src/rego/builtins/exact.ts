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

/**
 * An argument as an exact integer. Numbers arrive as doubles (exact to 2^53) unless the module
 * wrapped them as `{"$pgwarden.number": "<text>"}`, which keeps every digit.
 */
export function toBigInt(v: unknown): bigint | undefined {
  if (typeof v === 'object' && v !== null && !Array.isArray(v)) {
    const text = (v as Record<string, unknown>)['$pgwarden.number'];
    if (typeof text === 'string' && /^-?\d+$/.test(text)) return BigInt(text);
    if (typeof text === 'string') return toBigInt(Number(text));
    return undefined;
  }
  if (typeof v !== 'number' || !Number.isFinite(v)) return undefined;
  return BigInt(Math.trunc(v));
}
