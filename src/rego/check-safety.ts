/**
 * Safety and reordering (OPA's "unsafe variable" check). Rego bodies may use a variable before
 * the expression that binds it (`x > 1; x := 2`); like OPA, the compiler reorders a body so
 * that every expression runs after the ones binding its inputs, keeping source order
 * otherwise. A variable no expression can bind is unsafe: a compile error.
 *
 * The walk below mirrors the planner's evaluation order exactly: refs bind unbound vars in
 * their path (iteration), `=` binds the side that is a pattern once the other side is known,
 * `:=` binds its left side, a call with one extra argument binds that argument, `some x in xs`
 * binds x. Comprehensions, `every` bodies and negations see the variables of the enclosing
 * body but bind nothing in it.
 */

import type * as ast from './ast.js';

const GLOBALS = new Set(['input', 'data']);

/** Vars of a term outside of nested closures (comprehension bodies are closures). */
export function visibleVars(t: ast.Term, out: Set<string>): void {
  switch (t.type) {
    case 'var':
      out.add(t.name);
      break;
    case 'ref':
      visibleVars(t.head, out);
      t.path.forEach((p) => visibleVars(p, out));
      break;
    case 'call':
      t.args.forEach((a) => visibleVars(a, out));
      break;
    case 'array':
    case 'set':
      t.items.forEach((a) => visibleVars(a, out));
      break;
    case 'object':
      t.entries.forEach(([k, v]) => {
        visibleVars(k, out);
        visibleVars(v, out);
      });
      break;
    default:
      break;
  }
}

/** Vars occurring in an expression outside closures (the vars it shares with its body). */
export function exprVisibleVars(e: ast.Expr, out: Set<string>): void {
  switch (e.kind) {
    case 'term':
      visibleVars(e.term, out);
      break;
    case 'some':
      e.vars.forEach((v) => out.add(v.name));
      break;
    case 'somein':
      if (e.key !== undefined) visibleVars(e.key, out);
      visibleVars(e.value, out);
      visibleVars(e.collection, out);
      break;
    case 'every':
      visibleVars(e.domain, out);
      break;
  }
  for (const w of e.with) visibleVars(w.value, out);
}

/**
 * The free vars of a term including those inside closures; vars a closure declares itself
 * (`some`, `:=`, `some ... in`, `every`) are its own and left out.
 */
export function allVars(t: ast.Term, out: Map<string, ast.VarTerm>): void {
  switch (t.type) {
    case 'var':
      if (!out.has(t.name)) out.set(t.name, t);
      break;
    case 'ref':
      allVars(t.head, out);
      t.path.forEach((p) => allVars(p, out));
      break;
    case 'call':
      t.args.forEach((a) => allVars(a, out));
      break;
    case 'array':
    case 'set':
      t.items.forEach((a) => allVars(a, out));
      break;
    case 'object':
      t.entries.forEach(([k, v]) => {
        allVars(k, out);
        allVars(v, out);
      });
      break;
    case 'arraycompr':
    case 'setcompr':
      closureVars(t.body, [t.term], out);
      break;
    case 'objectcompr':
      closureVars(t.body, [t.key, t.value], out);
      break;
    default:
      break;
  }
}

/** Free vars of a closure body plus head terms, without the vars the body declares. */
function closureVars(body: ast.Body, head: ast.Term[], out: Map<string, ast.VarTerm>): void {
  const inner = new Map<string, ast.VarTerm>();
  body.forEach((e) => exprAllVars(e, inner));
  head.forEach((t) => allVars(t, inner));
  const declared = declaredVars(body);
  for (const [name, v] of inner) if (!declared.has(name) && !out.has(name)) out.set(name, v);
}

/** Vars a body declares: `some x`, `x := ...`, `some x in ...`. */
export function declaredVars(body: ast.Body): Set<string> {
  const out = new Set<string>();
  const pattern = (t: ast.Term | undefined): void => {
    if (t === undefined) return;
    if (t.type === 'var') out.add(t.name);
    else if (t.type === 'array') t.items.forEach(pattern);
    else if (t.type === 'object') t.entries.forEach(([, v]) => pattern(v));
  };
  for (const e of body) {
    if (e.kind === 'some') e.vars.forEach(pattern);
    else if (e.kind === 'somein') {
      pattern(e.key);
      pattern(e.value);
    } else if (e.kind === 'term' && e.term.type === 'call' && opName(e.term) === 'assign') {
      pattern(e.term.args[0]);
    }
  }
  return out;
}

/** Every free var of an expression including closures. */
export function exprAllVars(e: ast.Expr, out: Map<string, ast.VarTerm>): void {
  switch (e.kind) {
    case 'term':
      allVars(e.term, out);
      break;
    case 'some':
      break;
    case 'somein':
      if (e.key !== undefined) allVars(e.key, out);
      allVars(e.value, out);
      allVars(e.collection, out);
      break;
    case 'every': {
      allVars(e.domain, out);
      const inner = new Map<string, ast.VarTerm>();
      closureVars(e.body, [], inner);
      if (e.key !== undefined) inner.delete(e.key.name);
      inner.delete(e.value.name);
      for (const [n, v] of inner) if (!out.has(n)) out.set(n, v);
      break;
    }
  }
  for (const w of e.with) allVars(w.value, out);
}

/** True when `t` contains an unbound var in a position that unification can bind. */
export function hasUnboundPattern(t: ast.Term, bound: ReadonlySet<string>): boolean {
  switch (t.type) {
    case 'var':
      return !bound.has(t.name) && !GLOBALS.has(t.name);
    case 'array':
      return t.items.some((x) => hasUnboundPattern(x, bound));
    case 'object':
      return t.entries.some(([, v]) => hasUnboundPattern(v, bound));
    default:
      return false;
  }
}

/** True when the call operator names `assign` / `eq` / ... */
export function opName(t: ast.CallTerm): string {
  const op = t.operator;
  const parts = [op.head.type === 'var' ? op.head.name : '?'];
  for (const p of op.path) parts.push(p.type === 'string' ? p.value : '?');
  return parts.join('.');
}

/**
 * Simulates the evaluation of one expression given the bound vars. `outs` are the vars it
 * binds; `unsafe` those it needs but nothing binds.
 */
class Walk {
  readonly outs = new Set<string>();
  readonly unsafe = new Map<string, ast.VarTerm>();

  constructor(
    private readonly bound: ReadonlySet<string>,
    /** Vars the enclosing body uses outside closures: a closure must see them bound. */
    private readonly shared: ReadonlySet<string>,
    private readonly arity: (t: ast.CallTerm) => number | undefined,
  ) {}

  /** A `with` value naming a builtin (`with f as count`) is not a variable. */
  isFunctionName(t: ast.Term): boolean {
    if (t.type !== 'var' || this.isBound(t.name)) return false;
    const operator: ast.RefTerm = { type: 'ref', loc: t.loc, head: t, path: [] };
    return this.arity({ type: 'call', loc: t.loc, operator, args: [] }) !== undefined;
  }

  isBound(name: string): boolean {
    return this.bound.has(name) || this.outs.has(name) || GLOBALS.has(name);
  }

  input(t: ast.Term): void {
    switch (t.type) {
      case 'var':
        if (!this.isBound(t.name) && !this.unsafe.has(t.name)) this.unsafe.set(t.name, t);
        break;
      case 'ref':
        this.input(t.head);
        for (const p of t.path) {
          if (p.type === 'var' || p.type === 'array' || p.type === 'object') this.pattern(p);
          else this.input(p);
        }
        break;
      case 'call':
        this.call(t);
        break;
      case 'array':
      case 'set':
        t.items.forEach((x) => this.input(x));
        break;
      case 'object':
        t.entries.forEach(([k, v]) => {
          this.input(k);
          this.input(v);
        });
        break;
      case 'arraycompr':
      case 'setcompr':
      case 'objectcompr':
        this.closure(t);
        break;
      default:
        break;
    }
  }

  /** A closure needs bound every var it shares with the enclosing body. */
  closure(t: ast.Term): void {
    const vars = new Map<string, ast.VarTerm>();
    allVars(t, vars);
    this.closureVars(vars);
  }

  closureVars(vars: Map<string, ast.VarTerm>): void {
    for (const [name, v] of vars) {
      if ((this.shared.has(name) || this.bound.has(name)) && !this.isBound(name)) {
        if (!this.unsafe.has(name)) this.unsafe.set(name, v);
      }
    }
  }

  pattern(t: ast.Term): void {
    switch (t.type) {
      case 'var':
        if (!this.isBound(t.name)) this.outs.add(t.name);
        break;
      case 'array':
        t.items.forEach((x) => this.pattern(x));
        break;
      case 'object':
        t.entries.forEach(([k, v]) => {
          this.input(k);
          this.pattern(v);
        });
        break;
      default:
        this.input(t);
    }
  }

  call(t: ast.CallTerm): void {
    const name = opName(t);
    if (name === 'eq' && t.args.length === 2) return this.unify(t.args[0]!, t.args[1]!);
    if (name === 'assign' && t.args.length === 2) {
      this.input(t.args[1]!);
      return this.declare(t.args[0]!);
    }
    const arity = this.arity(t);
    if (arity === undefined) {
      // Unknown function (reported elsewhere): let its arguments bind, to avoid follow-on
      // unsafe-variable errors.
      t.args.forEach((a) => this.pattern(a));
      return;
    }
    const n = arity;
    t.args.slice(0, n).forEach((a) => this.input(a));
    if (t.args.length === n + 1) this.pattern(t.args[n]!);
  }

  /** `:=` declares its left side's vars, even when an outer var has the same name. */
  declare(t: ast.Term): void {
    if (t.type === 'var') this.outs.add(t.name);
    else if (t.type === 'array') t.items.forEach((x) => this.declare(x));
    else if (t.type === 'object') t.entries.forEach(([, v]) => this.declare(v));
    else this.input(t);
  }

  unify(a: ast.Term, b: ast.Term): void {
    const bound = { has: (n: string) => this.isBound(n) } as ReadonlySet<string>;
    if (a.type === 'array' && b.type === 'array' && a.items.length === b.items.length) {
      a.items.forEach((x, i) => this.unify(x, b.items[i]!));
      return;
    }
    const pairs = objectPairs(a, b);
    if (pairs !== undefined) {
      pairs.forEach(([x, y]) => this.unify(x, y));
      return;
    }
    if (hasUnboundPattern(a, bound) && !hasUnboundPattern(b, bound)) {
      this.input(b);
      this.pattern(a);
      return;
    }
    if (hasUnboundPattern(b, bound)) {
      this.input(a);
      this.pattern(b);
      return;
    }
    this.input(a);
    this.input(b);
  }

  expr(e: ast.Expr): void {
    for (const w of e.with) if (!this.isFunctionName(w.value)) this.input(w.value);
    switch (e.kind) {
      case 'term':
        if (e.term.type === 'call') this.call(e.term);
        else this.input(e.term);
        break;
      case 'some':
        break;
      case 'somein':
        this.input(e.collection);
        if (e.key !== undefined) this.pattern(e.key);
        this.pattern(e.value);
        break;
      case 'every': {
        this.input(e.domain);
        const vars = new Map<string, ast.VarTerm>();
        exprAllVars(e, vars);
        this.closureVars(vars);
        break;
      }
    }
  }
}

/**
 * Two object terms with the same constant keys unify value by value (`{"a": x} = {"a": 1}`);
 * returns the value pairs, or undefined when the shapes differ.
 */
export function objectPairs(a: ast.Term, b: ast.Term): Array<[ast.Term, ast.Term]> | undefined {
  if (a.type !== 'object' || b.type !== 'object' || a.entries.length !== b.entries.length) {
    return undefined;
  }
  const keyOf = (t: ast.Term): string | undefined =>
    t.type === 'string' || t.type === 'number' || t.type === 'boolean'
      ? `${t.type}:${String(t.value)}`
      : t.type === 'null'
        ? 'null'
        : undefined;
  const right = new Map<string, ast.Term>();
  for (const [k, v] of b.entries) {
    const key = keyOf(k);
    if (key === undefined) return undefined;
    right.set(key, v);
  }
  const out: Array<[ast.Term, ast.Term]> = [];
  for (const [k, v] of a.entries) {
    const key = keyOf(k);
    const other = key === undefined ? undefined : right.get(key);
    if (other === undefined) return undefined;
    out.push([v, other]);
  }
  return out;
}

/**
 * The unsafe vars of terms evaluated after a body (a rule head's value, key and ref): vars in
 * ref positions iterate and are fine, other vars must be bound.
 */
export function unsafeTermVars(
  terms: ast.Term[],
  bound: ReadonlySet<string>,
  arity: (t: ast.CallTerm) => number | undefined,
): ast.VarTerm[] {
  const w = new Walk(bound, new Set(), arity);
  terms.forEach((t) => w.input(t));
  return [...w.unsafe.values()];
}

/** The result of ordering a body. */
export interface OrderedBody {
  body: ast.Body;
  /** Unsafe vars (first occurrence each); empty when the body is safe. */
  unsafe: ast.VarTerm[];
  /** Vars bound once the whole body ran (including `bound`). */
  bound: Set<string>;
}

/**
 * Reorder `body` so bindings come first, given the vars already bound. `arity` tells how many
 * arguments a call takes (one more argument is its output).
 */
export function orderBody(
  body: ast.Body,
  bound: ReadonlySet<string>,
  arity: (t: ast.CallTerm) => number | undefined,
): OrderedBody {
  const shared = new Set<string>();
  for (const e of body) exprVisibleVars(e, shared);
  const now = new Set(bound);
  const remaining = [...body];
  const out: ast.Body = [];
  while (remaining.length > 0) {
    let picked = -1;
    let outs: Set<string> | undefined;
    for (let i = 0; i < remaining.length; i++) {
      const w = new Walk(now, shared, arity);
      w.expr(remaining[i]!);
      if (w.unsafe.size === 0) {
        picked = i;
        outs = w.outs;
        break;
      }
    }
    if (picked < 0) break;
    const e = remaining.splice(picked, 1)[0]!;
    out.push(e);
    if (!e.negated && e.kind !== 'every') outs!.forEach((v) => now.add(v));
  }
  const unsafe = new Map<string, ast.VarTerm>();
  for (const e of remaining) {
    const w = new Walk(now, shared, arity);
    w.expr(e);
    for (const [n, v] of w.unsafe) if (!unsafe.has(n)) unsafe.set(n, v);
  }
  return { body: [...out, ...remaining], unsafe: [...unsafe.values()], bound: now };
}
