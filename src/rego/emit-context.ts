/**
 * State shared by every function of one module being generated: the static data, the runtime's
 * helper names, the planned functions, and the host builtins the policy uses (with their ids
 * for `opa_builtinN`).
 */
import type * as ir from './ir.js';
import { StaticData } from './emit-statics.js';
import { hostBuiltinArity } from './builtins/index.js';
import { routeBuiltin } from './emit-builtins.js';
import { wasm, type Expr } from './wasm-builder.js';

/** A host builtin the module calls: its id in the `builtins()` map and its wire name. */
export interface HostBuiltinUse {
  id: number;
  wireName: string;
  arity: number;
}

/** Shared emission state for one policy module. */
export class EmitContext {
  readonly statics: StaticData;
  readonly trueValue: number;
  readonly falseValue: number;
  readonly hostBuiltins = new Map<string, HostBuiltinUse>();
  private readonly funcs = new Map<string, ir.Func>();

  constructor(
    readonly policy: ir.Policy,
    private readonly runtimeParams: ReadonlyMap<string, number>,
    staticBase: number,
    /** Strict builtin errors: a builtin failing aborts evaluation instead of being undefined. */
    readonly strict = false,
  ) {
    this.statics = new StaticData(staticBase);
    // Boolean values in the runtime layout: type 2, value at +4.
    this.falseValue = this.statics.raw(Uint8Array.from([2, 0, 0, 0, 0, 0, 0, 0]));
    this.trueValue = this.statics.raw(Uint8Array.from([2, 0, 0, 0, 1, 0, 0, 0]));
    for (const f of policy.funcs) this.funcs.set(f.name, f);
  }

  /** Name under which generated code calls a runtime export such as `rt_dot`. */
  runtimeFn(exportName: string): string {
    if (!this.runtimeParams.has(exportName)) {
      throw new Error(`runtime has no export ${exportName}`);
    }
    return exportName;
  }

  /** True when `name` is a planned function of this policy (not a builtin). */
  isPlanned(name: string): boolean {
    return this.funcs.has(name);
  }

  /** Wasm function name of a planned function. */
  funcName(irName: string): string {
    return `policy:${irName}`;
  }

  /** Text of string constant `index`. */
  string(index: number): string {
    const s = this.policy.static.strings[index];
    if (s === undefined) throw new Error(`string constant ${index} out of range`);
    return s;
  }

  /** Static string value of constant `index`. */
  stringValue(index: number): { value: number; ptr: number; len: number } {
    return this.statics.string(this.string(index));
  }

  /** Static string value of any text. */
  internString(text: string): { value: number; ptr: number; len: number } {
    return this.statics.string(text);
  }

  /** Address of a static NUL-terminated text. */
  cstring(text: string): number {
    return this.statics.cstring(text);
  }

  /** Name of source file `index` (for runtime error messages). */
  file(index: number): string {
    return this.policy.static.files[index] ?? '';
  }

  /** Planned functions whose data path has `n` elements (CallDynamicStmt candidates). */
  funcsWithPathLength(n: number): ir.Func[] {
    return this.policy.funcs.filter((f) => f.path.length === n);
  }

  /** A call of a planned function or a builtin; its value is a value address or 0. */
  callFunc(name: string, args: Expr[], loc?: ir.StmtLocation): Expr {
    const m = wasm;
    if (this.funcs.has(name)) return m.call(this.funcName(name), args);
    const route = routeBuiltin(name);
    const where = loc ? ` at ${this.file(loc.file)}:${loc.row}:${loc.col}` : '';
    if (route.kind === 'runtime') {
      const want = this.runtimeParams.get(route.fn);
      if (want !== args.length) {
        throw new Error(`${name} takes ${want ?? '?'} argument(s), got ${args.length}${where}`);
      }
      return m.call(this.runtimeFn(route.fn), args);
    }
    if (route.kind === 'host' || route.kind === 'hostText') {
      const want = hostBuiltinArity(name);
      if (want !== undefined && want !== args.length) {
        throw new Error(`${name} takes ${want} argument(s), got ${args.length}${where}`);
      }
      if (route.kind === 'host') return this.hostCall(route.wireName, args, name, where);
      // Sets survive the SDK's JSON boundary only as Rego value text inside strings.
      const text = args.map((a) => m.call(this.runtimeFn('rt_value_text'), [a]));
      const result = this.hostCall(route.wireName, text, name, where);
      return m.call(this.runtimeFn('rt_value_from_text'), [result]);
    }
    throw new Error(`unsupported builtin ${name}${where}`);
  }

  /** `opa_builtinN(id, 0, args...)`: a host builtin through the SDK. */
  hostCall(wireName: string, args: Expr[], name = wireName, where = ''): Expr {
    if (args.length > 4) throw new Error(`builtin ${name} takes more than 4 arguments${where}`);
    let use = this.hostBuiltins.get(wireName);
    if (!use) {
      use = { id: this.hostBuiltins.size, wireName, arity: args.length };
      this.hostBuiltins.set(wireName, use);
    }
    return wasm.call(`opa_builtin${args.length}`, [
      wasm.i32.const(use.id),
      wasm.i32.const(0),
      ...args,
    ]);
  }
}
