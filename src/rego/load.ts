/**
 * Loads a compiled policy module into OPA's own JavaScript SDK (@open-policy-agent/opa-wasm),
 * with pgwarden's host builtins, so policies run exactly as the gateway runs them.
 */
import { loadPolicy, type LoadedPolicy } from '@open-policy-agent/opa-wasm';
import { hostBuiltins } from './builtins/index.js';

export type { LoadedPolicy } from '@open-policy-agent/opa-wasm';

/**
 * Instantiates `wasm` through opa-wasm's `loadPolicy` with the host builtins, then sets
 * `data` when given. The result is the SDK's LoadedPolicy (`evaluate`, `setData`, ...).
 */
export async function loadCompiledPolicy(wasm: Uint8Array, data?: unknown): Promise<LoadedPolicy> {
  const policy = await loadPolicy(wasm, undefined, hostBuiltins());
  if (data !== undefined) policy.setData(data as object);
  return policy;
}

/** The exports of an OPA ABI 1.2 module that {@link evaluateText} uses. */
interface AbiExports {
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

/**
 * Evaluates like the SDK's `evaluate` but returns the result set's JSON text unparsed, so
 * numbers beyond 2^53 survive (read it with a lossless JSON parser). `inputJson` is JSON text
 * or undefined for no input.
 */
export function evaluateText(
  policy: LoadedPolicy,
  inputJson: string | undefined,
  entrypoint: number | string = 0,
): string {
  const id = typeof entrypoint === 'number' ? entrypoint : policy.entrypoints[entrypoint];
  if (typeof id !== 'number') throw new TypeError(`unknown entrypoint ${String(entrypoint)}`);
  const instance =
    'instance' in policy.wasmInstance ? policy.wasmInstance.instance : policy.wasmInstance;
  const exports = instance.exports as unknown as AbiExports;
  const input = inputJson === undefined ? undefined : new TextEncoder().encode(inputJson);
  const inputAddr = input ? (policy.dataHeapPtr as number) : 0;
  const inputLen = input ? input.length : 0;
  if (input) {
    const needed = inputAddr + inputLen - policy.mem.buffer.byteLength;
    if (needed > 0) policy.mem.grow(Math.ceil(needed / 65536));
    new Uint8Array(policy.mem.buffer).set(input, inputAddr);
  }
  const heap = (policy.dataHeapPtr as number) + inputLen;
  const out = exports.opa_eval(0, id, policy.dataAddr, inputAddr, inputLen, heap, 0);
  const bytes = new Uint8Array(policy.mem.buffer);
  let end = out;
  while (bytes[end] !== 0) end++;
  return new TextDecoder().decode(bytes.subarray(out, end));
}
