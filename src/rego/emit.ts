/**
 * Code generation: turns a planned policy (src/rego/ir.ts) into a WebAssembly module that
 * speaks OPA's Wasm ABI. Every IR function and plan becomes a real Wasm function calling the
 * prebuilt AssemblyScript runtime's helpers; `eval` and `opa_eval` dispatch over the plans;
 * `builtins`/`entrypoints` report the host builtins and entrypoints; a start function copies
 * the policy's static data in. wasm-link.ts appends all of it to the runtime binary.
 */
import type * as ir from './ir.js';
import { EmitContext } from './emit-context.js';
import { FunctionEmitter } from './emit-stmts.js';
import { ARITH_BUILTIN } from './builtins/index.js';
import { runtimeWasm } from './runtime/locate.js';
import { wasm as m, type Expr } from './wasm-builder.js';
import {
  link,
  readRuntime,
  RUNTIME_START,
  staticSegmentIndex,
  type NewFunction,
  type RuntimeInfo,
} from './wasm-link.js';

/** Runtime exports the finished module keeps: OPA's ABI. Helpers (`rt_*`) are dropped. */
const ABI_EXPORTS = new Set([
  'memory',
  'opa_malloc',
  'opa_free',
  'opa_heap_ptr_get',
  'opa_heap_ptr_set',
  'opa_json_parse',
  'opa_value_parse',
  'opa_json_dump',
  'opa_value_dump',
  'opa_eval_ctx_new',
  'opa_eval_ctx_set_input',
  'opa_eval_ctx_set_data',
  'opa_eval_ctx_set_entrypoint',
  'opa_eval_ctx_get_result',
  'opa_wasm_abi_version',
  'opa_wasm_abi_minor_version',
]);

/** What code generation produced. */
export interface EmitResult {
  wasm: Uint8Array;
  /** Entrypoint name -> id, as the module's `entrypoints()` reports it. */
  entrypoints: Record<string, number>;
  /** Host builtins the module calls, by the name it asks the SDK for. */
  hostBuiltins: string[];
}

/** Options of {@link emitPolicy}. */
export interface EmitOptions {
  /** Accepted and ignored: generated code is emitted in final form (V8 optimizes it). */
  optimize?: boolean;
  /** Validate the module with the engine's own compiler (WebAssembly.validate). */
  validate?: boolean;
  /** A failing builtin raises an error instead of making its expression undefined. */
  strictBuiltinErrors?: boolean;
}

let runtime: { bytes: Uint8Array; info: RuntimeInfo } | undefined;

function runtimeInfo(): RuntimeInfo {
  const bytes = runtimeWasm();
  if (runtime?.bytes !== bytes) runtime = { bytes, info: readRuntime(bytes) };
  return runtime.info;
}

/** `opa_json_parse` over a static JSON text: how builtins() and entrypoints() answer. */
function jsonText(ctx: EmitContext, value: unknown): Expr {
  const text = JSON.stringify(value);
  const len = new TextEncoder().encode(text).length;
  const addr = ctx.cstring(text);
  return m.call('opa_json_parse', [m.i32.const(addr), m.i32.const(len)]);
}

/** Generates the module for a planned policy. */
export function emitPolicy(policy: ir.Policy, options: EmitOptions = {}): EmitResult {
  const rt = runtimeInfo();
  const params = new Map<string, number>();
  for (const e of rt.exports) if (e.kind === 0) params.set(e.name, rt.funcParams[e.index] ?? 0);
  for (const [name, index] of rt.importedFuncs) {
    params.set(name.replace(/^env\./, ''), rt.funcParams[index] ?? 0);
  }
  const ctx = new EmitContext(policy, params, rt.staticEnd, options.strictBuiltinErrors === true);
  const functions: NewFunction[] = [];
  // Registered first (id 0): exact big-integer and decimal arithmetic in the host.
  ctx.hostCall(ARITH_BUILTIN, [m.i32.const(0), m.i32.const(0), m.i32.const(0)]);
  const arithId = ctx.hostBuiltins.get(ARITH_BUILTIN)?.id ?? 0;

  // 1. Planned functions: params are input, data, then the function's own arguments.
  for (const f of policy.funcs) {
    const fe = new FunctionEmitter(ctx, f.params);
    const body = f.blocks.map((b) => fe.block(b));
    body.push(m.return(m.local.get(fe.local(f.return))));
    functions.push({
      name: ctx.funcName(f.name),
      params: f.params.length,
      result: true,
      vars: fe.vars,
      body,
    });
  }

  // 2. Plans: (input, data, result set), with input and data as IR locals 0 and 1.
  const entrypoints: Record<string, number> = {};
  policy.plans.forEach((plan, id) => {
    entrypoints[plan.name] = id;
    const fe = new FunctionEmitter(ctx, [0, 1], 1);
    fe.resultSetLocal = 2;
    const body = plan.blocks.map((b) => fe.block(b));
    functions.push({ name: `plan:${id}`, params: 3, result: false, vars: fe.vars, body });
  });

  // 3. eval(ctx) dispatches on the entrypoint id; ctx = {input, data, result set, entrypoint}.
  const ctxGet = (off: number): Expr => m.i32.load(off, m.local.get(0));
  let dispatch: Expr = m.nop();
  for (let id = policy.plans.length - 1; id >= 0; id--) {
    dispatch = m.if(
      m.i32.eq(ctxGet(12), m.i32.const(id)),
      m.call(`plan:${id}`, [ctxGet(0), ctxGet(4), ctxGet(8)]),
      dispatch,
    );
  }
  functions.push({
    name: 'eval',
    params: 1,
    result: true,
    vars: 0,
    body: [m.call('rt_eval_reset', [m.local.get(0)]), dispatch, m.i32.const(0)],
  });

  // opa_eval(reserved, entrypoint, data, input, inputLen, heap, format): ABI 1.2's fast path.
  const arg = (n: number): Expr => m.local.get(n);
  functions.push({
    name: 'opa_eval',
    params: 7,
    result: true,
    vars: 1,
    body: [
      m.local.set(7, m.call('rt_eval_prepare', [arg(1), arg(2), arg(3), arg(4), arg(5)])),
      m.drop(m.call('eval', [arg(7)])),
      m.call('rt_eval_finish', [arg(7), arg(6)]),
    ],
  });

  // 4. builtins() and entrypoints(): JSON maps parsed on demand (the SDK asks once).
  const builtinMap: Record<string, number> = {};
  for (const use of ctx.hostBuiltins.values()) builtinMap[use.wireName] = use.id;
  functions.push(
    { name: 'builtins', params: 0, result: true, vars: 0, body: [jsonText(ctx, builtinMap)] },
    { name: 'entrypoints', params: 0, result: true, vars: 0, body: [jsonText(ctx, entrypoints)] },
  );

  // 5. Start: grow memory if the statics need it, run the runtime's start, copy the statics in,
  // and start the heap past them.
  const statics = ctx.statics.contents();
  const heapStart = (ctx.statics.base + statics.length + 15) & ~15;
  const pages = Math.ceil(heapStart / 65536) + 1;
  const segment = staticSegmentIndex(rt);
  functions.push({
    name: 'policy:start',
    params: 0,
    result: false,
    vars: 0,
    body: [
      m.if(
        m.i32.lt_u(m.memory.size(), m.i32.const(pages)),
        m.drop(m.memory.grow(m.i32.sub(m.i32.const(pages), m.memory.size()))),
      ),
      m.call(RUNTIME_START, []),
      m.call('rt_set_arith', [m.i32.const(arithId)]),
      m.memory.init(
        segment,
        m.i32.const(ctx.statics.base),
        m.i32.const(0),
        m.i32.const(statics.length),
      ),
      m.data.drop(segment),
      m.global.set('rt_heap_ptr', m.i32.const(heapStart)),
    ],
  });

  const bytes = link(rt, {
    functions,
    keepExports: ABI_EXPORTS,
    exports: {
      eval: 'eval',
      opa_eval: 'opa_eval',
      builtins: 'builtins',
      entrypoints: 'entrypoints',
    },
    start: 'policy:start',
    staticData: statics,
  });
  if (options.validate === true) validateModule(bytes);
  return { wasm: bytes, entrypoints, hostBuiltins: [...ctx.hostBuiltins.keys()] };
}

/** Compiles the module with the engine, so a malformed module fails here, not at load. */
function validateModule(bytes: Uint8Array): void {
  const engine = (
    globalThis as unknown as { WebAssembly: { Module: new (b: Uint8Array) => object } }
  ).WebAssembly;
  new engine.Module(bytes);
}
