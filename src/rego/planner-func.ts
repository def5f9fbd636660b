/**
 * Plans the statements of one IR function: bodies (reordered by the safety check),
 * expressions, terms, references (with iteration), unification and calls. Planning is in
 * continuation-passing style like OPA's planner: each construct emits its statements and then
 * calls `k` to plan "the rest" inside the innermost block it opened (a scan, a with), so
 * iteration nests the remainder of the body.
 */

import type * as ast from './ast.js';
import { hasUnboundPattern, objectPairs, opName, orderBody } from './check-safety.js';
import { diagnostic } from './diagnostics.js';
import * as ir from './ir.js';
import { op, type Mocks, type PlanContext } from './planner-context.js';
import { planDataRef } from './planner-data.js';
import { planCall, planPrint } from './planner-calls.js';
import { planWith } from './planner-with.js';

/** Largest integer planned as MakeNumberIntStmt; larger ones keep their text. */
const MAX_INT = Number.MAX_SAFE_INTEGER;

/** Plans one function or plan. */
export class FuncPlanner {
  private nextLocal = 2;
  /** Statements of the block being filled. */
  curr: ir.Stmt[] = [];
  /** Bound Rego vars -> locals. */
  vars = new Map<string, ir.Local>();

  constructor(
    readonly ctx: PlanContext,
    public mocks: Mocks,
  ) {}

  /** A fresh local. */
  newLocal(): ir.Local {
    return this.nextLocal++;
  }

  /** Append a statement to the current block. */
  emit(stmt: ir.Stmt): void {
    this.curr.push(stmt);
  }

  /** How many IR blocks enclose the statements being emitted (for BreakStmt). */
  depth = 0;

  /** Leave every block opened since `base` (the depth outside the block to leave). */
  breakTo(base: number): void {
    this.emit({ type: 'BreakStmt', index: this.depth - base - 1 });
  }

  /** True once an IsDefinedStmt on input precedes the current statement on every path. */
  inputChecked = false;

  /** Run `fn` collecting its statements into a new block. */
  block(fn: () => void): ir.Block {
    const saved = this.curr;
    const checked = this.inputChecked;
    this.curr = [];
    this.depth++;
    try {
      fn();
      return { stmts: this.curr };
    } finally {
      this.curr = saved;
      this.depth--;
      this.inputChecked = checked;
    }
  }

  /**
   * Negation: succeeds when `plan` finds no solution. A NotStmt alone would not do: a block
   * whose expression iterates (a scan) always runs to its end. So the first solution sets a
   * flag and breaks out of every scan; the negation then checks the flag is unset.
   */
  negate(plan: (k: () => void) => void): void {
    const found = this.newLocal();
    this.emit({ type: 'ResetLocalStmt', target: found });
    const base = this.depth;
    const inner = this.scoped(() =>
      this.block(() =>
        plan(() => {
          this.emit({ type: 'AssignVarStmt', source: op.bool(true), target: found });
          this.breakTo(base);
        }),
      ),
    );
    this.emit({ type: 'BlockStmt', blocks: [inner] });
    this.emit({ type: 'IsUndefinedStmt', source: found });
  }

  /** Run `fn` with the var bindings restored afterwards (closures, negation, rules). */
  scoped<T>(fn: () => T): T {
    const saved = new Map(this.vars);
    try {
      return fn();
    } finally {
      this.vars = saved;
    }
  }

  /** The IR location of a source position. */
  loc(l: ast.Location): ir.StmtLocation {
    return { file: this.ctx.file(l.file), row: l.line, col: l.col };
  }

  /** The operand as a local (constants are copied into one). */
  toLocal(o: ir.Operand): ir.Local {
    if (o.type === 'local') return o.value;
    const t = this.newLocal();
    this.emit({ type: 'AssignVarStmt', source: o, target: t });
    return t;
  }

  /** The set of bound var names, for the safety walk. */
  boundNames(): Set<string> {
    return new Set(this.vars.keys());
  }

  /** Order `body` for the current bindings, report unsafe vars, and plan it. */
  planBody(body: ast.Body, k: () => void): void {
    const ordered = orderBody(body, this.boundNames(), (t) => this.ctx.callArity(t));
    for (const v of ordered.unsafe) this.unsafe(v);
    if (ordered.unsafe.length > 0) return;
    this.planExprs(ordered.body, 0, k);
  }

  /** Report an unsafe var. */
  unsafe(v: ast.VarTerm): void {
    const name = v.name.startsWith('$_') ? '_' : v.name;
    this.ctx.diags.push(diagnostic(v.loc, 'rego_unsafe_var_error', `var ${name} is unsafe`));
  }

  private planExprs(es: ast.Expr[], i: number, k: () => void): void {
    const e = es[i];
    if (e === undefined) return k();
    this.planExpr(e, () => this.planExprs(es, i + 1, k));
  }

  /** Plan one expression (with its `with` modifiers and negation), then `k`. */
  planExpr(e: ast.Expr, k: () => void): void {
    if (e.with.length > 0) return planWith(this, e, k);
    if (e.negated) {
      this.negate((found) => this.planExprInner({ ...e, negated: false }, found));
      return k();
    }
    this.planExprInner(e, k);
  }

  /** Plan an expression without `with` or negation. */
  planExprInner(e: ast.Expr, k: () => void): void {
    switch (e.kind) {
      case 'some':
        for (const v of e.vars) this.vars.delete(v.name);
        return k();
      case 'somein':
        return this.planSomeIn(e, k);
      case 'every':
        return this.planEvery(e, k);
      case 'term':
        if (e.term.type === 'call') return this.planCallExpr(e.term, k);
        return this.planTerm(e.term, (o) => {
          this.emit({ type: 'NotEqualStmt', a: o, b: op.bool(false) });
          k();
        });
    }
  }

  private planSomeIn(e: ast.SomeIn, k: () => void): void {
    // OPA types a literal collection's members; when no member can match the value pattern
    // (`some [x, y] in [[1, 2, 3]]`), its type checker reports a "match error".
    const c = e.collection;
    const members = c.type === 'array' || c.type === 'set' ? c.items : [];
    if (members.length > 0 && members.every((m) => literalsMismatch(e.value, m))) {
      this.ctx.diags.push(diagnostic(e.value.loc, 'rego_type_error', 'match error'));
      return;
    }
    this.planTerm(e.collection, (c) => {
      const src = this.toLocal(c);
      const key = this.newLocal();
      const value = this.newLocal();
      for (const t of [e.key, e.value]) if (t !== undefined) this.forgetPatternVars(t);
      const block = this.block(() => {
        const bindValue = (): void => this.unifyOp(e.value, op.local(value), k);
        if (e.key !== undefined) this.unifyOp(e.key, op.local(key), bindValue);
        else bindValue();
      });
      this.emit({ type: 'ScanStmt', source: src, key, value, block });
    });
  }

  /** `every`: true when no element of the domain makes the body fail. */
  private planEvery(e: ast.EveryExpr, k: () => void): void {
    this.planTerm(e.domain, (d) => {
      const src = this.toLocal(d);
      // OPA: a domain that is not an array, object or set makes `every` fail, not hold.
      const iterable = this.newLocal();
      this.emit({ type: 'ResetLocalStmt', target: iterable });
      const kinds = ['IsArrayStmt', 'IsObjectStmt', 'IsSetStmt'] as const;
      const checks = kinds.map((type): ir.Block => ({
        stmts: [
          { type, source: op.local(src) },
          { type: 'AssignVarStmt', source: op.bool(true), target: iterable },
        ],
      }));
      this.emit({ type: 'BlockStmt', blocks: checks });
      this.emit({ type: 'IsDefinedStmt', source: iterable });
      const key = this.newLocal();
      const value = this.newLocal();
      const failed = this.newLocal();
      this.emit({ type: 'ResetLocalStmt', target: failed });
      // The first element that fails the body decides: leave the scan through a wrapper block.
      const base = this.depth;
      const wrapper = this.block(() => {
        const block = this.scoped(() =>
          this.block(() => {
            if (e.key !== undefined) this.vars.set(e.key.name, key);
            this.vars.set(e.value.name, value);
            this.negate((found) => this.planBody(e.body, found));
            this.emit({ type: 'AssignVarStmt', source: op.bool(true), target: failed });
            this.breakTo(base);
          }),
        );
        this.emit({ type: 'ScanStmt', source: src, key, value, block });
      });
      this.emit({ type: 'BlockStmt', blocks: [wrapper] });
      this.emit({ type: 'IsUndefinedStmt', source: failed });
      k();
    });
  }

  /** `:=` and `some` introduce new vars even when an outer var has the same name. */
  forgetPatternVars(t: ast.Term): void {
    if (t.type === 'var') this.vars.delete(t.name);
    else if (t.type === 'array') t.items.forEach((x) => this.forgetPatternVars(x));
    else if (t.type === 'object') t.entries.forEach(([, v]) => this.forgetPatternVars(v));
  }

  private planCallExpr(t: ast.CallTerm, k: () => void): void {
    const name = opName(t);
    const [a, b] = t.args;
    if ((name === 'eq' || name === 'assign') && a !== undefined && b !== undefined) {
      if (this.badPattern(name, a, b)) return;
    }
    if (name === 'eq' && a !== undefined && b !== undefined) return this.unify(a, b, k);
    if (name === 'assign' && a !== undefined && b !== undefined) {
      return this.planTerm(b, (o) => {
        this.forgetPatternVars(a);
        if (a.type === 'var' && (a.name === 'input' || a.name === 'data')) {
          // v0 lets a local shadow input or data (v1 rejects it in check-decl.ts).
          this.vars.set(a.name, this.toLocal(o));
          return k();
        }
        this.unifyOp(a, o, k);
      });
    }
    if (name === 'print') return planPrint(this, t, k);
    if (
      (name === 'equal' || name === 'neq') &&
      t.args.length === 2 &&
      !this.mocks.funcs.has(name)
    ) {
      // As OPA does, `==` and `!=` as expressions compare directly, without a builtin call.
      return this.planTerms(t.args, ([x, y]) => {
        const type = name === 'equal' ? 'EqualStmt' : 'NotEqualStmt';
        this.emit({ type, a: x!, b: y! });
        k();
      });
    }
    const arity = this.ctx.callArity(t);
    if (arity !== undefined && t.args.length === arity + 1) {
      const out = t.args[arity]!;
      return planCall(this, t, t.args.slice(0, arity), (r) => this.unifyOp(out, op.local(r), k));
    }
    planCall(this, t, t.args, (r) => {
      this.emit({ type: 'NotEqualStmt', a: op.local(r), b: op.bool(false) });
      k();
    });
  }

  /**
   * Compile-time errors of `a := b` and `a = b` that OPA reports: two literals of shapes that
   * can never unify (arrays of different lengths, an array and an object, objects with other
   * keys) are OPA's type checker's "match error". `:=` to a non-var was reported by
   * check-decl.ts. True when the expression is in error and must not be planned.
   */
  private badPattern(name: string, a: ast.Term, b: ast.Term): boolean {
    if (name === 'assign' && !['var', 'array', 'object'].includes(a.type)) return true;
    if (!literalsMismatch(a, b)) return false;
    this.ctx.diags.push(diagnostic(a.loc, 'rego_type_error', 'match error'));
    return true;
  }

  /** Plan terms left to right, then `k` with their operands. */
  planTerms(ts: ast.Term[], k: (ops: ir.Operand[]) => void, acc: ir.Operand[] = []): void {
    const t = ts[acc.length];
    if (t === undefined) return k(acc);
    this.planTerm(t, (o) => this.planTerms(ts, k, [...acc, o]));
  }

  /** Plan a term's value; `k` receives an operand holding it. */
  planTerm(t: ast.Term, k: (o: ir.Operand) => void): void {
    switch (t.type) {
      case 'null': {
        const l = this.newLocal();
        this.emit({ type: 'MakeNullStmt', target: l });
        return k(op.local(l));
      }
      case 'boolean':
        return k(op.bool(t.value));
      case 'string':
        return k(op.str(this.ctx.str(t.value)));
      case 'number':
        return k(op.local(this.number(t.value)));
      case 'var':
        return this.planVar(t, k);
      case 'ref':
        return this.planRef(t, k);
      case 'call':
        return planCall(this, t, t.args, (r) => k(op.local(r)));
      case 'array':
        return this.planTerms(t.items, (ops) => {
          const l = this.newLocal();
          this.emit({ type: 'MakeArrayStmt', capacity: ops.length, target: l });
          for (const o of ops) this.emit({ type: 'ArrayAppendStmt', value: o, array: l });
          k(op.local(l));
        });
      case 'set':
        return this.planTerms(t.items, (ops) => {
          const l = this.newLocal();
          this.emit({ type: 'MakeSetStmt', target: l });
          for (const o of ops) this.emit({ type: 'SetAddStmt', value: o, set: l });
          k(op.local(l));
        });
      case 'object':
        return this.planTerms(t.entries.flat(), (ops) => {
          const l = this.newLocal();
          this.emit({ type: 'MakeObjectStmt', target: l });
          for (let i = 0; i + 1 < ops.length; i += 2) {
            this.emit({ type: 'ObjectInsertStmt', key: ops[i]!, value: ops[i + 1]!, object: l });
          }
          k(op.local(l));
        });
      case 'arraycompr':
      case 'setcompr':
      case 'objectcompr':
        return k(op.local(this.planComprehension(t)));
    }
  }

  private number(text: string): ir.Local {
    const l = this.newLocal();
    if (/^-?\d+$/.test(text) && Math.abs(Number(text)) <= MAX_INT) {
      this.emit({ type: 'MakeNumberIntStmt', value: Number(text), target: l });
    } else {
      this.emit({ type: 'MakeNumberRefStmt', index: this.ctx.str(text), target: l });
    }
    return l;
  }

  private planVar(t: ast.VarTerm, k: (o: ir.Operand) => void): void {
    const l = this.vars.get(t.name);
    if (l !== undefined) return k(op.local(l));
    if (t.name === 'input') {
      // Without input, `input` is undefined like any missing document. One check per path of
      // blocks is enough: later statements of this block and nested blocks follow it.
      if (!this.inputChecked) this.emit({ type: 'IsDefinedStmt', source: ir.INPUT });
      this.inputChecked = true;
      return k(op.local(ir.INPUT));
    }
    if (t.name === 'data') return planDataRef(this, [], k);
    this.unsafe(t);
  }

  private planComprehension(
    t: ast.ArrayComprehension | ast.SetComprehension | ast.ObjectComprehension,
  ): ir.Local {
    const r = this.newLocal();
    if (t.type === 'arraycompr') this.emit({ type: 'MakeArrayStmt', capacity: 0, target: r });
    else if (t.type === 'setcompr') this.emit({ type: 'MakeSetStmt', target: r });
    else this.emit({ type: 'MakeObjectStmt', target: r });
    const block = this.scoped(() =>
      this.block(() =>
        this.planBody(t.body, () => {
          if (t.type === 'objectcompr') {
            this.planTerms([t.key, t.value], ([key, value]) =>
              this.emit({
                type: 'ObjectInsertOnceStmt',
                key: key!,
                value: value!,
                object: r,
                loc: this.loc(t.loc),
                message: 'object keys must be unique',
              }),
            );
          } else {
            this.planTerm(t.term, (o) =>
              this.emit(
                t.type === 'arraycompr'
                  ? { type: 'ArrayAppendStmt', value: o, array: r }
                  : { type: 'SetAddStmt', value: o, set: r },
              ),
            );
          }
        }),
      ),
    );
    this.emit({ type: 'BlockStmt', blocks: [block] });
    return r;
  }

  /** Plan a reference, iterating over unbound vars in its path. */
  planRef(t: ast.RefTerm, k: (o: ir.Operand) => void): void {
    const head = t.head;
    if (head.type === 'var' && head.name === 'data' && !this.vars.has('data')) {
      return planDataRef(this, t.path, k);
    }
    this.planTerm(head, (src) => this.walkPath(src, t.path, 0, k));
  }

  /** Dot into `src` along `path[i..]`; unbound vars (and patterns) iterate with a scan. */
  walkPath(src: ir.Operand, path: ast.Term[], i: number, k: (o: ir.Operand) => void): void {
    const el = path[i];
    if (el === undefined) return k(src);
    const bound = this.boundNames();
    if (hasUnboundPattern(el, bound)) {
      const source = this.toLocal(src);
      const key = this.newLocal();
      const value = this.newLocal();
      const block = this.block(() =>
        this.unifyOp(el, op.local(key), () => this.walkPath(op.local(value), path, i + 1, k)),
      );
      this.emit({ type: 'ScanStmt', source, key, value, block });
      return;
    }
    this.planTerm(el, (key) => {
      const target = this.newLocal();
      this.emit({ type: 'DotStmt', source: src, key, target });
      this.walkPath(op.local(target), path, i + 1, k);
    });
  }

  /** Unify two terms (OPA's `=`), binding unbound vars on either side. */
  unify(a: ast.Term, b: ast.Term, k: () => void): void {
    if (a.type === 'array' && b.type === 'array') {
      if (a.items.length !== b.items.length) {
        this.emit({ type: 'EqualStmt', a: op.bool(true), b: op.bool(false) });
        return;
      }
      const step = (i: number): void => {
        const x = a.items[i];
        if (x === undefined) return k();
        this.unify(x, b.items[i]!, () => step(i + 1));
      };
      return step(0);
    }
    const pairs = objectPairs(a, b);
    if (pairs !== undefined) {
      const step = (i: number): void => {
        const pair = pairs[i];
        if (pair === undefined) return k();
        this.unify(pair[0], pair[1], () => step(i + 1));
      };
      return step(0);
    }
    const bound = this.boundNames();
    if (hasUnboundPattern(a, bound) && !hasUnboundPattern(b, bound)) {
      return this.planTerm(b, (o) => this.unifyOp(a, o, k));
    }
    if (hasUnboundPattern(b, bound)) return this.planTerm(a, (o) => this.unifyOp(b, o, k));
    this.planTerm(a, (oa) =>
      this.planTerm(b, (ob) => {
        this.emit({ type: 'EqualStmt', a: oa, b: ob });
        k();
      }),
    );
  }

  /** Unify a pattern term with a value already planned. */
  unifyOp(pattern: ast.Term, value: ir.Operand, k: () => void): void {
    const bound = this.boundNames();
    if (pattern.type === 'var' && !bound.has(pattern.name) && pattern.name !== 'input') {
      // input and data locals change under `with`: a var bound to them takes a copy.
      const isDoc = value.type === 'local' && (value.value === ir.INPUT || value.value === ir.DATA);
      const local = isDoc ? this.newLocal() : this.toLocal(value);
      if (isDoc) this.emit({ type: 'AssignVarStmt', source: value, target: local });
      this.vars.set(pattern.name, local);
      return k();
    }
    if (pattern.type === 'array' && hasUnboundPattern(pattern, bound)) {
      const src = this.toLocal(value);
      this.emit({ type: 'IsArrayStmt', source: op.local(src) });
      this.checkLength(src, pattern.items.length);
      const step = (i: number): void => {
        const item = pattern.items[i];
        if (item === undefined) return k();
        const idx = this.number(String(i));
        const t = this.newLocal();
        this.emit({ type: 'DotStmt', source: op.local(src), key: op.local(idx), target: t });
        this.unifyOp(item, op.local(t), () => step(i + 1));
      };
      return step(0);
    }
    if (pattern.type === 'object' && hasUnboundPattern(pattern, bound)) {
      const src = this.toLocal(value);
      this.emit({ type: 'IsObjectStmt', source: op.local(src) });
      this.checkLength(src, pattern.entries.length);
      const step = (i: number): void => {
        const entry = pattern.entries[i];
        if (entry === undefined) return k();
        this.planTerm(entry[0], (key) => {
          const t = this.newLocal();
          this.emit({ type: 'DotStmt', source: op.local(src), key, target: t });
          this.unifyOp(entry[1], op.local(t), () => step(i + 1));
        });
      };
      return step(0);
    }
    this.planTerm(pattern, (p) => {
      this.emit({ type: 'EqualStmt', a: p, b: value });
      k();
    });
  }

  private checkLength(src: ir.Local, n: number): void {
    const len = this.newLocal();
    this.emit({ type: 'LenStmt', source: op.local(src), target: len });
    const want = this.number(String(n));
    this.emit({ type: 'EqualStmt', a: op.local(len), b: op.local(want) });
  }
}

const SCALARS = new Set(['null', 'boolean', 'number', 'string']);

/** Whether two literal terms have shapes that can never unify, whatever their vars hold. */
function literalsMismatch(a: ast.Term, b: ast.Term): boolean {
  const shaped = (t: ast.Term): boolean => t.type === 'array' || t.type === 'object';
  if (!shaped(a) && !shaped(b)) return false;
  const literal = (t: ast.Term): boolean => shaped(t) || t.type === 'set' || SCALARS.has(t.type);
  if (!literal(a) || !literal(b)) return false;
  if (a.type !== b.type) return true;
  if (a.type === 'array' && b.type === 'array') {
    if (a.items.length !== b.items.length) return true;
    return a.items.some((x, i) => literalsMismatch(x, b.items[i]!));
  }
  if (a.type === 'object' && b.type === 'object') {
    const keys = (t: ast.ObjectTerm): string[] | undefined => {
      const out: string[] = [];
      for (const [k] of t.entries) {
        if (!SCALARS.has(k.type)) return undefined;
        out.push(`${k.type}:${String((k as { value?: unknown }).value)}`);
      }
      return out.sort();
    };
    const ka = keys(a);
    const kb = keys(b);
    if (ka === undefined || kb === undefined) return false;
    return ka.join('\0') !== kb.join('\0');
  }
  return false;
}
