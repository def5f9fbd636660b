/**
 * Lowers the statements of one IR function or plan into a Wasm function body (wasm-builder.ts).
 *
 * Blocks become Wasm `block`s; a statement that fails branches to the end of the innermost IR
 * block, and `BreakStmt{index}` branches to the end of the (index+1)-th enclosing IR block, so
 * IR control flow maps one to one onto Wasm structured control flow. IR locals become Wasm i32
 * locals holding value addresses (0 = undefined).
 */
import type * as ir from './ir.js';
import type { EmitContext } from './emit-context.js';
import { wasm, type Expr } from './wasm-builder.js';
import { ERROR_BUILTIN } from './builtins/index.js';
import { MAY_BE_UNDEFINED, routeBuiltin, UNDEFINED_UNLESS_TYPE_ERROR } from './emit-builtins.js';

/** Host builtins whose operands carry nanosecond times: they receive exact number text. */
const EXACT_ARGS = new Set(['time.format', 'time.diff', 'time.date', 'time.clock', 'time.weekday']);

/** An enclosing IR block: its Wasm label and the `with` frames opened inside it. */
interface Frame {
  label: string;
  /** Set for the block of a WithStmt: restoring the local when a break leaves it. */
  restore?: { local: number; saved: number };
}

/** Emits one function; create one per IR function or plan. */
export class FunctionEmitter {
  private readonly m = wasm;
  private readonly localMap = new Map<number, number>();
  private varCount = 0;
  private nextIndex: number;
  private labelCount = 0;
  private readonly frames: Frame[] = [];
  /** Wasm local holding the plan's result set (plans only). */
  resultSetLocal = -1;

  constructor(
    private readonly ctx: EmitContext,
    params: readonly ir.Local[],
    extraParams = 0,
  ) {
    params.forEach((p, i) => this.localMap.set(p, i));
    this.nextIndex = params.length + extraParams;
  }

  /** Number of Wasm locals beyond the parameters (all i32). */
  get vars(): number {
    return this.varCount;
  }

  /** The Wasm local for an IR local. */
  local(n: ir.Local): number {
    let idx = this.localMap.get(n);
    if (idx === undefined) {
      idx = this.temp();
      this.localMap.set(n, idx);
    }
    return idx;
  }

  /** A fresh scratch local. */
  temp(): number {
    this.varCount++;
    return this.nextIndex++;
  }

  private get(n: ir.Local): Expr {
    return this.m.local.get(this.local(n));
  }

  private set(n: ir.Local, value: Expr): Expr {
    return this.m.local.set(this.local(n), value);
  }

  private label(prefix: string): string {
    return `${prefix}${this.labelCount++}`;
  }

  private call(fn: string, args: Expr[]): Expr {
    return this.m.call(this.ctx.runtimeFn(fn), args);
  }

  private get failLabel(): string {
    const top = this.frames[this.frames.length - 1];
    if (!top) throw new Error('statement outside of a block');
    return top.label;
  }

  private fail(cond: Expr): Expr {
    return this.m.br(this.failLabel, cond);
  }

  private operand(op: ir.Operand): Expr {
    switch (op.type) {
      case 'local':
        return this.get(op.value);
      case 'bool':
        return this.m.i32.const(op.value ? this.ctx.trueValue : this.ctx.falseValue);
      case 'string_index':
        return this.m.i32.const(this.ctx.stringValue(op.value).value);
    }
  }

  /** One IR block as a labelled Wasm block (its own failure scope). */
  block(b: ir.Block, restore?: Frame['restore'], tail: Expr[] = []): Expr {
    const frame: Frame = { label: this.label('b'), ...(restore ? { restore } : {}) };
    this.frames.push(frame);
    const body = b.stmts.flatMap((s) => this.stmt(s));
    body.push(...tail);
    this.frames.pop();
    return this.m.block(frame.label, body);
  }

  /** Lowers one statement into zero or more Wasm expressions. */
  stmt(s: ir.Stmt): Expr[] {
    const m = this.m;
    switch (s.type) {
      case 'CallStmt':
        return this.callStmt(s);
      case 'CallDynamicStmt':
        return this.callDynamic(s);
      case 'DotStmt': {
        let value: Expr;
        if (s.key.type === 'string_index') {
          const str = this.ctx.stringValue(s.key.value);
          value = this.call('rt_dot_str', [
            this.operand(s.source),
            m.i32.const(str.ptr),
            m.i32.const(str.len),
          ]);
        } else {
          value = this.call('rt_dot', [this.operand(s.source), this.operand(s.key)]);
        }
        return [this.set(s.target, value), this.fail(m.i32.eqz(this.get(s.target)))];
      }
      case 'LenStmt':
        return [
          this.set(s.target, this.call('rt_len', [this.operand(s.source)])),
          this.fail(m.i32.eqz(this.get(s.target))),
        ];
      case 'ScanStmt':
        return [this.scan(s)];
      case 'NotStmt': {
        // The inner block running to its end means the negation fails.
        const outer = this.failLabel;
        const frame: Frame = { label: this.label('n') };
        this.frames.push(frame);
        const body = s.block.stmts.flatMap((x) => this.stmt(x));
        this.frames.pop();
        body.push(m.br(outer));
        return [m.block(frame.label, body)];
      }
      case 'BlockStmt':
        return s.blocks.map((b) => this.block(b));
      case 'BreakStmt':
        return this.breakStmt(s.index);
      case 'AssignVarStmt':
        return [this.set(s.target, this.operand(s.source))];
      case 'AssignVarOnceStmt':
        return [this.assignOnce(s)];
      case 'AssignIntStmt':
        return [this.set(s.target, m.i32.const(s.value))];
      case 'ResetLocalStmt':
        return [this.set(s.target, m.i32.const(0))];
      case 'MakeNullStmt':
        return [this.set(s.target, this.call('rt_null', []))];
      case 'MakeNumberIntStmt':
        return [this.set(s.target, this.intValue(BigInt(s.value)))];
      case 'MakeNumberRefStmt':
        return [this.set(s.target, this.numberRef(s.index))];
      case 'MakeArrayStmt':
        return [this.set(s.target, this.call('rt_array', [m.i32.const(s.capacity)]))];
      case 'MakeObjectStmt':
        return [this.set(s.target, this.call('rt_object', []))];
      case 'MakeSetStmt':
        return [this.set(s.target, this.call('rt_set', []))];
      case 'ArrayAppendStmt':
        return [this.call('rt_array_append', [this.get(s.array), this.operand(s.value)])];
      case 'ObjectInsertStmt':
        return [
          this.call('rt_object_insert', [
            this.get(s.object),
            this.operand(s.key),
            this.operand(s.value),
          ]),
        ];
      case 'ObjectInsertOnceStmt':
        return [
          m.if(
            m.i32.eqz(
              this.call('rt_object_insert_once', [
                this.get(s.object),
                this.operand(s.key),
                this.operand(s.value),
              ]),
            ),
            this.abort(s.message ?? 'object insert conflict', s.loc),
          ),
        ];
      case 'ObjectMergeStmt':
        return [
          this.set(s.target, this.call('rt_object_merge', [this.get(s.a), this.get(s.b)])),
          this.fail(m.i32.eqz(this.get(s.target))),
        ];
      case 'SetAddStmt':
        return [this.call('rt_set_add', [this.get(s.set), this.operand(s.value)])];
      case 'EqualStmt':
        return [this.fail(m.i32.eqz(this.equal(s.a, s.b)))];
      case 'NotEqualStmt':
        return [this.fail(this.equal(s.a, s.b))];
      case 'IsArrayStmt':
        return [this.typeCheck(s.source, 7)];
      case 'IsObjectStmt':
        return [this.typeCheck(s.source, 8)];
      case 'IsSetStmt':
        return [this.typeCheck(s.source, 9)];
      case 'IsDefinedStmt':
        return [this.fail(m.i32.eqz(this.get(s.source)))];
      case 'IsUndefinedStmt':
        return [this.fail(this.get(s.source))];
      case 'ReturnLocalStmt':
        return [m.return(this.get(s.source))];
      case 'ResultSetAddStmt':
        if (this.resultSetLocal < 0) throw new Error('ResultSetAddStmt outside of a plan');
        return [this.call('rt_set_add', [m.local.get(this.resultSetLocal), this.get(s.value)])];
      case 'WithStmt':
        return this.withStmt(s);
      case 'NopStmt':
        return [];
    }
  }

  private equal(a: ir.Operand, b: ir.Operand): Expr {
    return this.call('rt_value_equal', [this.operand(a), this.operand(b)]);
  }

  private typeCheck(source: ir.Operand, tag: number): Expr {
    return this.fail(
      this.m.i32.eqz(this.call('rt_is_type', [this.operand(source), this.m.i32.const(tag)])),
    );
  }

  private intValue(n: bigint): Expr {
    return this.call('rt_int', [this.m.i64.const(n)]);
  }

  private numberRef(index: number): Expr {
    const text = this.ctx.string(index);
    if (/^-?\d{1,18}$/.test(text)) return this.intValue(BigInt(text));
    const str = this.ctx.stringValue(index);
    return this.call('rt_numref', [this.m.i32.const(str.ptr), this.m.i32.const(str.len)]);
  }

  /** Calls opa_abort with "file:row:col: message" (OPA's runtime error text). */
  private abort(message: string, loc?: ir.StmtLocation): Expr {
    const where = loc ? `${this.ctx.file(loc.file)}:${loc.row}:${loc.col}: ` : '';
    const addr = this.ctx.cstring(`${where}${message}`);
    return this.call('rt_abort', [this.m.i32.const(addr)]);
  }

  private assignOnce(s: ir.AssignVarOnceStmt): Expr {
    const m = this.m;
    return m.if(
      m.i32.eqz(this.get(s.target)),
      this.set(s.target, this.operand(s.source)),
      m.if(
        m.i32.eqz(this.call('rt_value_equal', [this.get(s.target), this.operand(s.source)])),
        this.abort(s.message ?? 'var assignment conflict', s.loc),
      ),
    );
  }

  private breakStmt(index: number): Expr[] {
    const target = this.frames.length - 1 - index;
    const frame = this.frames[target];
    if (!frame) throw new Error(`BreakStmt index ${index} leaves the function`);
    // Leaving a `with` block by a break still restores the replaced document.
    const out: Expr[] = [];
    for (let i = this.frames.length - 1; i >= target; i--) {
      const r = this.frames[i]?.restore;
      if (r) out.push(this.m.local.set(r.local, this.m.local.get(r.saved)));
    }
    out.push(this.m.br(frame.label));
    return out;
  }

  private scan(s: ir.ScanStmt): Expr {
    const m = this.m;
    const src = this.temp();
    const n = this.temp();
    const i = this.temp();
    const order = this.temp();
    const at = this.temp();
    const done = this.label('s');
    const loop = this.label('l');
    // Expressions are tree nodes: every use gets its own.
    const get = (local: number): Expr => m.local.get(local);
    return m.block(done, [
      m.local.set(src, this.get(s.source)),
      m.br(done, m.i32.eqz(get(src))),
      m.local.set(n, this.call('rt_coll_len', [get(src)])),
      // Objects and sets iterate in sorted key order, as OPA iterates them.
      m.local.set(order, this.call('rt_iter_order', [get(src)])),
      m.local.set(i, m.i32.const(0)),
      m.loop(
        loop,
        m.block(null, [
          m.br(done, m.i32.ge_s(get(i), get(n))),
          m.local.set(at, get(i)),
          m.if(
            get(order),
            m.local.set(
              at,
              m.i32.load(0, m.i32.add(get(order), m.i32.shl(get(i), m.i32.const(2)))),
            ),
          ),
          this.set(s.key, this.call('rt_key_at', [get(src), get(at)])),
          this.set(s.value, this.call('rt_val_at', [get(src), get(at)])),
          this.block(s.block),
          m.local.set(i, m.i32.add(get(i), m.i32.const(1))),
          m.br(loop),
        ]),
      ),
    ]);
  }

  private withStmt(s: ir.WithStmt): Expr[] {
    const m = this.m;
    const target = this.local(s.local);
    const saved = this.temp();
    const failed = this.temp();
    // The path as an array value of its (static) string keys.
    const path = this.temp();
    const out: Expr[] = [
      m.local.set(saved, m.local.get(target)),
      m.local.set(path, this.call('rt_array', [m.i32.const(s.path.length)])),
    ];
    for (const idx of s.path) {
      out.push(
        this.call('rt_array_append', [
          m.local.get(path),
          m.i32.const(this.ctx.stringValue(idx).value),
        ]),
      );
    }
    out.push(
      m.local.set(
        target,
        this.call('rt_upsert', [m.local.get(saved), m.local.get(path), this.operand(s.value)]),
      ),
      m.local.set(failed, m.i32.const(1)),
    );
    // The flag clears only when the block runs to its end; otherwise the WithStmt fails.
    out.push(
      this.block(s.block, { local: target, saved }, [m.local.set(failed, m.i32.const(0))]),
      m.local.set(target, m.local.get(saved)),
    );
    out.push(this.fail(m.local.get(failed)));
    return out;
  }

  private callStmt(s: ir.CallStmt): Expr[] {
    const m = this.m;
    const args = (): Expr[] => s.args.map((a) => this.operand(a));
    let call: Expr;
    if (EXACT_ARGS.has(s.func)) {
      // Nanosecond times beyond 2^53 reach the host as exact text, not as doubles.
      const exact = args().map((a) => this.call('rt_exact_numbers', [a]));
      call = this.ctx.callFunc(s.func, exact, s.loc);
    } else if (s.func === 'time.add_date' && s.args.length === 4) {
      // The host computes the calendar delta; adding it here keeps every nanosecond digit.
      const exact = args().map((a) => this.call('rt_exact_numbers', [a]));
      const delta = this.ctx.hostCall('pgwarden.time.add_date_delta', exact, s.func);
      call = this.call('rt_plus', [this.operand(s.args[0] as ir.Operand), delta]);
    } else if (s.func === 'sprintf' && s.args.length === 2) {
      // The module formats the common verbs itself; anything else goes to the host, with big
      // numbers passed as exact text rather than doubles.
      const [format, values] = args() as [Expr, Expr];
      const host = this.ctx.callFunc(
        s.func,
        [format, this.call('rt_exact_numbers', [values])],
        s.loc,
      );
      return this.finishCall(s, args, [
        this.set(s.result, this.call('rt_sprintf', args())),
        m.if(m.i32.eqz(this.get(s.result)), this.set(s.result, host)),
      ]);
    } else {
      call = this.ctx.callFunc(s.func, args(), s.loc);
    }
    return this.finishCall(s, args, [this.set(s.result, call)]);
  }

  /** The checks after a call: host fallback, strict builtin errors, failure when undefined. */
  private finishCall(s: ir.CallStmt, args: () => Expr[], out: Expr[]): Expr[] {
    const m = this.m;
    if (this.ctx.isPlanned(s.func)) {
      out.push(this.fail(m.i32.eqz(this.get(s.result))));
      return out;
    }
    const route = routeBuiltin(s.func);
    if (route.kind === 'runtime' && route.fallback) {
      // Undefined from the module's fast path: let the host implementation answer.
      out.push(
        m.if(
          m.i32.eqz(this.get(s.result)),
          this.set(s.result, this.ctx.hostCall(route.fallback, args(), s.func)),
        ),
      );
    }
    if (this.ctx.strict) out.push(this.strictCheck(s, args));
    out.push(this.fail(m.i32.eqz(this.get(s.result))));
    return out;
  }

  /**
   * Strict builtin errors: an undefined result aborts. The runtime's own message wins (divide by
   * zero); otherwise the host words OPA's operand type error from the operands' types.
   */
  private strictCheck(s: ir.CallStmt, args: () => Expr[]): Expr {
    const m = this.m;
    const name = m.i32.const(this.ctx.cstring(s.func));
    const undefinedResult = m.i32.eqz(this.get(s.result));
    if (MAY_BE_UNDEFINED.has(s.func)) {
      return m.if(
        m.i32.and(undefinedResult, this.call('rt_has_error', [])),
        this.call('rt_builtin_error', [name]),
      );
    }
    const list = this.temp();
    const build: Expr[] = [m.local.set(list, this.call('rt_array', [m.i32.const(s.args.length)]))];
    for (const a of args()) build.push(this.call('rt_array_append', [m.local.get(list), a]));
    const message = this.ctx.hostCall(ERROR_BUILTIN, [
      m.i32.const(this.ctx.internString(s.func).value),
      this.call('rt_type_names', [m.local.get(list)]),
      m.local.get(list),
    ]);
    const abort = (msg: Expr): Expr =>
      this.call('rt_abort_message', [m.i32.const(this.ctx.cstring(s.func)), msg]);
    let report = abort(message);
    if (UNDEFINED_UNLESS_TYPE_ERROR.has(s.func)) {
      const msg = this.temp();
      report = m.block(null, [
        m.local.set(msg, message),
        m.if(m.i32.eqz(m.i32.eqz(m.local.get(msg))), abort(m.local.get(msg))),
      ]);
    }
    return m.if(
      undefinedResult,
      m.block(null, [
        m.if(this.call('rt_has_error', []), this.call('rt_builtin_error', [name])),
        ...build,
        report,
      ]),
    );
  }

  private callDynamic(s: ir.CallDynamicStmt): Expr[] {
    const m = this.m;
    const args = (): Expr[] => s.args.map((a) => this.get(a));
    // Try each function whose path has the same length, comparing element by element.
    let chain: Expr = m.br(this.failLabel);
    for (const f of this.ctx.funcsWithPathLength(s.path.length)) {
      const conds: Expr[] = [];
      let possible = true;
      s.path.forEach((op, i) => {
        const want = f.path[i] ?? '';
        if (op.type === 'string_index') {
          if (this.ctx.string(op.value) !== want) possible = false;
        } else if (op.type === 'local') {
          const str = this.ctx.internString(want);
          conds.push(
            this.call('rt_str_eq', [
              this.get(op.value),
              m.i32.const(str.ptr),
              m.i32.const(str.len),
            ]),
          );
        } else {
          possible = false;
        }
      });
      if (!possible) continue;
      const callIt = this.set(s.result, m.call(this.ctx.funcName(f.name), args()));
      const cond = conds.reduce<Expr | null>((acc, c) => (acc ? m.i32.and(acc, c) : c), null);
      chain = cond ? m.if(cond, callIt, chain) : callIt;
    }
    return [chain, this.fail(m.i32.eqz(this.get(s.result)))];
  }
}
