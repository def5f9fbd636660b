/**
 * Evaluation of a policy loaded by `@open-policy-agent/opa-wasm`, reading the raw result text
 * instead of the SDK's `JSON.parse`d value, so big numbers survive and, in `value` mode, sets
 * stay sets. Both modes drive the module through the exports the SDK itself uses (the loaded
 * instance, its memory and data address), so what runs is the gateway's code path.
 */
import type { LoadedPolicy } from '@open-policy-agent/opa-wasm';
import { PgwardenError } from '../../errors.js';
import { parseJson, parseRegoValue } from './parse.js';
import type { RValue } from './value.js';

/**
 * - `json`: the ABI 1.2 fast path (`opa_eval`), exactly as `LoadedPolicy.evaluate` calls it;
 *   the result is JSON (sets come back as arrays).
 * - `value`: the eval-context calls and `opa_value_dump`, which writes Rego value text, so sets
 *   and non-string keys are kept.
 */
export type ResultMode = 'json' | 'value';

/** The part of a `WebAssembly.Memory` used here (the lib settings have no DOM types). */
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}

interface PolicyExports {
  opa_malloc(size: number): number;
  opa_json_parse(addr: number, len: number): number;
  opa_json_dump(addr: number): number;
  opa_value_dump?(addr: number): number;
  opa_heap_ptr_set(addr: number): void;
  opa_eval_ctx_new(): number;
  opa_eval_ctx_set_input(ctx: number, addr: number): void;
  opa_eval_ctx_set_data(ctx: number, addr: number): void;
  opa_eval_ctx_set_entrypoint(ctx: number, ep: number): void;
  opa_eval_ctx_get_result(ctx: number): number;
  eval(ctx: number): number;
  opa_eval?(
    reserved: number,
    ep: number,
    data: number,
    input: number,
    inputLen: number,
    heap: number,
    format: number,
  ): number;
}

/** The SDK's loaded policy, with the fields it keeps (public in its type declarations). */
type Loaded = Pick<
  LoadedPolicy,
  'mem' | 'wasmInstance' | 'dataAddr' | 'dataHeapPtr' | 'entrypoints' | 'minorVersion'
>;

function exportsOf(policy: Loaded): PolicyExports {
  // The SDK keeps either an Instance or an instantiated source holding one.
  const inst = policy.wasmInstance as unknown as {
    instance?: { exports: unknown };
    exports?: unknown;
  };
  return (inst.instance ? inst.instance.exports : inst.exports) as PolicyExports;
}

/** The id of an entrypoint by name; a number is taken as an id. */
export function entrypointId(policy: Loaded, entrypoint: string | number): number {
  if (typeof entrypoint === 'number') return entrypoint;
  const eps = policy.entrypoints as Record<string, number>;
  const id = Object.prototype.hasOwnProperty.call(eps, entrypoint) ? eps[entrypoint] : undefined;
  if (id === undefined) {
    throw new PgwardenError('ERR_REGO_EVAL', `the module has no entrypoint ${entrypoint}`);
  }
  return id;
}

/**
 * Evaluates one entrypoint and returns the result set as a value: an array (JSON mode) or a
 * set (value mode) of `{"result": ...}` objects; empty when the entrypoint is undefined.
 * `input` is JSON text.
 * Errors raised by the module (`opa_abort`, traps) become `ERR_REGO_EVAL`.
 */
export function evaluateRaw(
  policy: Loaded,
  entrypoint: string | number,
  input: string | undefined,
  mode: ResultMode = 'json',
): RValue {
  const ep = entrypointId(policy, entrypoint);
  try {
    const text =
      mode === 'json' ? evaluateJsonText(policy, ep, input) : evaluateValueText(policy, ep, input);
    return mode === 'json' ? parseJson(text) : parseRegoValue(text);
  } catch (err) {
    if (err instanceof PgwardenError) throw err;
    throw new PgwardenError('ERR_REGO_EVAL', abortMessage(err), { cause: err });
  }
}

/** The message of whatever the module threw: `opa_abort` throws the text as a string. */
export function abortMessage(err: unknown): string {
  if (typeof err === 'string') return err;
  if (err instanceof Error) return err.message;
  if (err && typeof err === 'object' && 'message' in err) return String(err.message);
  return String(err);
}

function evaluateJsonText(policy: Loaded, ep: number, input: string | undefined): string {
  const ex = exportsOf(policy);
  const mem = policy.mem as unknown as WasmMemory;
  const base = policy.dataHeapPtr as number;
  if ((policy.minorVersion as number) >= 2 && ex.opa_eval) {
    // The ABI 1.2 fast path, step by step as the SDK does it: the input's text goes at the
    // heap pointer after the data, growing memory when needed; the heap restarts after it.
    const bytes = input === undefined ? new Uint8Array(0) : new TextEncoder().encode(input);
    const delta = base + bytes.length - mem.buffer.byteLength;
    if (delta > 0) mem.grow(Math.ceil(delta / 65536));
    new Uint8Array(mem.buffer).set(bytes, base);
    const inputAddr = input === undefined ? 0 : base;
    const out = ex.opa_eval(
      0,
      ep,
      policy.dataAddr,
      inputAddr,
      bytes.length,
      base + bytes.length,
      0,
    );
    return readCString(mem, out);
  }
  const result = evalWithContext(policy, ex, ep, input);
  return readCString(mem, ex.opa_json_dump(result));
}

function evaluateValueText(policy: Loaded, ep: number, input: string | undefined): string {
  const ex = exportsOf(policy);
  if (!ex.opa_value_dump) {
    throw new PgwardenError('ERR_REGO_EVAL', 'the module does not export opa_value_dump');
  }
  const result = evalWithContext(policy, ex, ep, input);
  return readCString(policy.mem as unknown as WasmMemory, ex.opa_value_dump(result));
}

function evalWithContext(
  policy: Loaded,
  ex: PolicyExports,
  ep: number,
  input: string | undefined,
): number {
  ex.opa_heap_ptr_set(policy.dataHeapPtr as number);
  let inputAddr = 0;
  if (input !== undefined) {
    const bytes = new TextEncoder().encode(input);
    const raw = ex.opa_malloc(bytes.length);
    new Uint8Array((policy.mem as unknown as WasmMemory).buffer).set(bytes, raw);
    inputAddr = ex.opa_json_parse(raw, bytes.length);
    if (inputAddr === 0) throw new PgwardenError('ERR_REGO_EVAL', 'the module rejected the input');
  }
  const ctx = ex.opa_eval_ctx_new();
  if (inputAddr !== 0) ex.opa_eval_ctx_set_input(ctx, inputAddr);
  ex.opa_eval_ctx_set_data(ctx, policy.dataAddr);
  ex.opa_eval_ctx_set_entrypoint(ctx, ep);
  ex.eval(ctx);
  return ex.opa_eval_ctx_get_result(ctx);
}

/** Reads a NUL-terminated UTF-8 string from the module's memory. */
export function readCString(mem: { readonly buffer: ArrayBuffer }, addr: number): string {
  const buf = new Uint8Array(mem.buffer);
  let end = addr;
  while (end < buf.length && buf[end] !== 0) end++;
  return new TextDecoder().decode(buf.subarray(addr, end));
}

/**
 * Loads base data from JSON text through the SDK (`setData` takes an ArrayBuffer as JSON text
 * as is, so numbers are not rounded on the way in).
 */
export function setDataText(policy: Pick<LoadedPolicy, 'setData'>, json: string): void {
  const bytes = new TextEncoder().encode(json);
  policy.setData(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
}

/** The `result` values of a result set, in the set's order. */
export function resultValues(resultSet: RValue): RValue[] {
  if (resultSet.t !== 'arr' && resultSet.t !== 'set') {
    throw new PgwardenError('ERR_REGO_EVAL', 'the module returned a result set that is not a list');
  }
  return resultSet.v.map((row) => {
    if (row.t !== 'obj') throw new PgwardenError('ERR_REGO_EVAL', 'a result row is not an object');
    const hit = row.v.find(([k]) => k.t === 'str' && k.v === 'result');
    if (!hit) throw new PgwardenError('ERR_REGO_EVAL', 'a result row has no "result" key');
    return hit[1];
  });
}
