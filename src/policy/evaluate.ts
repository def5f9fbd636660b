/**
 * The per-statement call into the policy module. For modules of OPA's Wasm ABI 1.2 and later
 * this does what opa-wasm's `evaluate` does (input text at the heap pointer, one `opa_eval`
 * call, the NUL-terminated result set read back) with less copying: the input is encoded
 * straight into the module's memory and one encoder and decoder are reused. Older modules go
 * through the SDK's own `evaluate`.
 */
import type { loadPolicy } from '@open-policy-agent/opa-wasm';

type LoadedPolicy = Awaited<ReturnType<typeof loadPolicy>>;

interface Abi12Exports {
  opa_eval(
    reserved: number,
    entrypoint: number,
    data: number,
    input: number,
    inputLen: number,
    heap: number,
    format: number,
  ): number;
}

const PAGE = 64 * 1024;

/**
 * An evaluation function for one entrypoint of `policy`. Its argument is a JSON value, or the
 * UTF-8 JSON text of one in an ArrayBuffer; it returns the parsed result set.
 */
export function entrypointEvaluator(policy: LoadedPolicy, id: number): (input: unknown) => unknown {
  if (typeof policy.minorVersion !== 'number' || policy.minorVersion < 2) {
    return (input) => policy.evaluate(input, id);
  }
  const holder = policy.wasmInstance;
  const instance = 'instance' in holder ? holder.instance : holder;
  const exports = instance.exports as unknown as Abi12Exports;
  const encoder = new TextEncoder();
  const decoder = new TextDecoder();

  return (input) => {
    // setData moves both pointers, so they are read at every call.
    const base = policy.dataHeapPtr as number;
    let length = 0;
    if (input instanceof ArrayBuffer) {
      ensure(policy, base + input.byteLength);
      new Uint8Array(policy.mem.buffer).set(new Uint8Array(input), base);
      length = input.byteLength;
    } else if (input !== undefined) {
      const text = JSON.stringify(input);
      // UTF-8 needs at most three bytes per UTF-16 unit.
      ensure(policy, base + text.length * 3);
      length = encoder.encodeInto(text, new Uint8Array(policy.mem.buffer, base)).written;
    }
    const inputAddr = length > 0 ? base : 0;
    const out = exports.opa_eval(0, id, policy.dataAddr, inputAddr, length, base + length, 0);
    const memory = new Uint8Array(policy.mem.buffer);
    const end = memory.indexOf(0, out);
    return JSON.parse(decoder.decode(memory.subarray(out, end < 0 ? memory.length : end)));
  };
}

/** Grows the module's memory so that `end` is addressable. */
function ensure(policy: LoadedPolicy, end: number): void {
  const missing = end - policy.mem.buffer.byteLength;
  if (missing > 0) policy.mem.grow(Math.ceil(missing / PAGE));
}
