// OPA's Wasm ABI (version 1.2) as the SDK calls it. The generated policy code replaces
// `policyEval` (a placeholder here) with the dispatcher over its entrypoint plans, and adds the
// `builtins` / `entrypoints` exports itself.

import { heapPtr, alloc, dup, resetHeap } from './mem';
import { parseText, dumpText } from './json';
import { newSet } from './value';
import { setError } from './number';
import { precomputeOrders } from './compare';

// @ts-ignore: decorator
@external('env', 'opa_abort')
export declare function opa_abort(addr: u32): void;

// @ts-ignore: decorator
@external('env', 'opa_println')
export declare function opa_println(addr: u32): void;

// Host builtins (JavaScript) reached through the SDK: builtin id, context, value arguments.
// @ts-ignore: decorator
@external('env', 'opa_builtin0')
declare function opa_builtin0(id: i32, ctx: u32): u32;
// @ts-ignore: decorator
@external('env', 'opa_builtin1')
declare function opa_builtin1(id: i32, ctx: u32, a: u32): u32;
// @ts-ignore: decorator
@external('env', 'opa_builtin2')
declare function opa_builtin2(id: i32, ctx: u32, a: u32, b: u32): u32;
// @ts-ignore: decorator
@external('env', 'opa_builtin3')
declare function opa_builtin3(id: i32, ctx: u32, a: u32, b: u32, c: u32): u32;
// @ts-ignore: decorator
@external('env', 'opa_builtin4')
declare function opa_builtin4(id: i32, ctx: u32, a: u32, b: u32, c: u32, d: u32): u32;

/**
 * Calls host builtin `id` with `n` arguments from `args` (a u32 array). Generated code calls
 * the imports directly; this export only keeps all five imports in the module.
 */
export function rt_host_call(id: i32, n: i32, args: u32): u32 {
  const a = load<u32>(args);
  const b = load<u32>(args, 4);
  const c = load<u32>(args, 8);
  const d = load<u32>(args, 12);
  if (n == 0) return opa_builtin0(id, 0);
  if (n == 1) return opa_builtin1(id, 0, a);
  if (n == 2) return opa_builtin2(id, 0, a, b);
  if (n == 3) return opa_builtin3(id, 0, a, b, c);
  return opa_builtin4(id, 0, a, b, c, d);
}

export const opa_wasm_abi_version: i32 = 1;
export const opa_wasm_abi_minor_version: i32 = 2;

// Evaluation context: +0 input, +4 data, +8 result set, +12 entrypoint id.

export function opa_malloc(size: u32): u32 {
  return alloc(size);
}

/** Frees nothing: the SDK resets the heap pointer between evaluations. */
export function opa_free(_ptr: u32): void {}

/** OPA ABI: the current heap pointer. */
export function opa_heap_ptr_get(): u32 {
  return heapPtr;
}

/** OPA ABI: moves the heap pointer (the SDK resets it per evaluation). */
export function opa_heap_ptr_set(p: u32): void {
  resetHeap(p);
  inEval = false;
}

/**
 * True from the start of an evaluation until the SDK next moves the heap pointer. JSON parsed
 * outside an evaluation is data (or input of the context path) and gets its sorted orders cached
 * once; JSON parsed inside one (host builtin results) does not need it.
 */
let inEval: bool = false;

/** OPA ABI: parses JSON text; 0 on a syntax error. */
export function opa_json_parse(p: u32, len: u32): u32 {
  const v = parseText(p, len, false);
  if (v != 0 && !inEval) precomputeOrders(v);
  return v;
}

/** OPA ABI: parses Rego value text (sets allowed). */
export function opa_value_parse(p: u32, len: u32): u32 {
  return parseText(p, len, true);
}

/** OPA ABI: dumps a value as NUL-terminated JSON text. */
export function opa_json_dump(v: u32): u32 {
  return dumpText(v, false);
}

/** OPA ABI: dumps a value as Rego value text. */
export function opa_value_dump(v: u32): u32 {
  return dumpText(v, true);
}

/** OPA ABI: a new evaluation context. */
export function opa_eval_ctx_new(): u32 {
  const ctx = alloc(16);
  store<u64>(ctx, 0);
  store<u64>(ctx, 0, 8);
  return ctx;
}

/** OPA ABI: sets the context's input. */
export function opa_eval_ctx_set_input(ctx: u32, v: u32): void {
  store<u32>(ctx, v, 0);
}

/** OPA ABI: sets the context's data. */
export function opa_eval_ctx_set_data(ctx: u32, v: u32): void {
  store<u32>(ctx, v, 4);
}

/** OPA ABI: sets the context's entrypoint id. */
export function opa_eval_ctx_set_entrypoint(ctx: u32, id: i32): void {
  store<i32>(ctx, id, 12);
}

/** OPA ABI: the context's result set. */
export function opa_eval_ctx_get_result(ctx: u32): u32 {
  return load<u32>(ctx, 8);
}

/**
 * First half of opa_eval (ABI 1.2's one-call path; the generated module defines opa_eval and
 * eval, since only it knows the plans): the heap restarts at `heapAddr`, the input JSON text
 * at `inputAddr` is parsed, and a context with a fresh result set is returned.
 */
export function rt_eval_prepare(
  entrypoint: i32,
  data: u32,
  inputAddr: u32,
  inputLen: u32,
  heapAddr: u32,
): u32 {
  resetHeap(heapAddr);
  const ctx = opa_eval_ctx_new();
  if (inputLen > 0) {
    const input = parseText(inputAddr, inputLen, false);
    if (input == 0) abortWith(INVALID_INPUT);
    store<u32>(ctx, input, 0);
  }
  store<u32>(ctx, data, 4);
  store<i32>(ctx, entrypoint, 12);
  rt_eval_reset(ctx);
  return ctx;
}

/** Gives a context an empty result set before its plan runs. */
export function rt_eval_reset(ctx: u32): void {
  inEval = true;
  store<u32>(ctx, newSet(0), 8);
  setError(0);
}

/** Second half of opa_eval: the result set's text (JSON, or Rego syntax when format is 1). */
export function rt_eval_finish(ctx: u32, format: i32): u32 {
  return dumpText(load<u32>(ctx, 8), format == 1);
}

// "invalid input"
const INVALID_INPUT: u32 = memory.data<u8>([
  105, 110, 118, 97, 108, 105, 100, 32, 105, 110, 112, 117, 116, 0,
]);

/** Aborts evaluation with a NUL-terminated message (the SDK throws it). */
export function abortWith(msg: u32): void {
  opa_abort(msg);
  unreachable();
}

/** Aborts with a message assembled from a static prefix and a string's bytes. */
export function abortWithDetail(prefix: u32, p: u32, n: u32): void {
  let plen: u32 = 0;
  while (load<u8>(prefix + plen) != 0) plen++;
  const buf = alloc(plen + n + 1);
  memory.copy(buf, prefix, plen);
  memory.copy(buf + plen, p, n);
  store<u8>(buf + plen + n, 0);
  abortWith(buf);
}

export { dup };
