/**
 * Name resolution and the rule index. Every rule is rewritten so that references to rules of
 * its package and to imports become full `data....` / `input....` refs, and every call names
 * either a builtin or a user function by its full `data....` path. Rules are grouped into rule
 * sets by the constant prefix of their path (OPA's rule tree), which the planner turns into one
 * function each.
 */

import type * as ast from './ast.js';
import { checkDeclarations } from './check-decl.js';
import { diagnostic, type Diagnostic } from './diagnostics.js';

/** A rule with the module it comes from and its place in the rule tree. */
export interface RuleInfo {
  rule: ast.Rule;
  module: ast.Module;
  /** The constant prefix of the rule's path below `data` (package + constant ref part). */
  path: string[];
  /** The rest of the head ref after the constant prefix (partial object/set keys). */
  dyn: ast.Term[];
}

/** All rules sharing one path. */
export interface RuleSet {
  path: string[];
  kind: ast.RuleKind;
  rules: RuleInfo[];
  defaultRule?: RuleInfo;
  /**
   * Defaults of single entries of a partial object whose key is not a string
   * (`default p[true] := 1`): each applies when no rule produced its key.
   */
  keyedDefaults?: RuleInfo[];
  /** For functions: the number of arguments. */
  arity?: number;
}

/** A node of the rule tree (one path segment below `data`). */
export interface TreeNode {
  path: string[];
  children: Map<string, TreeNode>;
  ruleSet?: RuleSet;
  /** A package path: read as an object even when it has no rules. */
  isPackage?: boolean;
}

/** The rule tree plus a map from path key to rule set. */
export interface RuleIndex {
  root: TreeNode;
  sets: Map<string, RuleSet>;
}

/** The key of a path in maps. */
export function pathKey(path: readonly string[]): string {
  return path.join('\u0000');
}

/** Resolve names in all modules and build the rule index. Problems go to `diags`. */
export function buildRuleIndex(
  modules: ast.Module[],
  builtins: Readonly<Record<string, number>>,
  diags: Diagnostic[],
): RuleIndex {
  const root: TreeNode = { path: [], children: new Map() };
  const sets = new Map<string, RuleSet>();
  const pkgRules = new Map<string, Set<string>>();
  const pkgFuncs = new Map<string, Set<string>>();
  for (const m of modules) {
    const k = pathKey(m.package.path);
    const names = pkgRules.get(k) ?? new Set<string>();
    const funcs = pkgFuncs.get(k) ?? new Set<string>();
    for (const r of m.rules) {
      names.add(r.head.ref[0].name);
      if (r.kind === 'function') funcs.add(r.head.ref[0].name);
    }
    pkgRules.set(k, names);
    pkgFuncs.set(k, funcs);
    packageNode(root, m.package.path);
  }
  for (const m of modules) {
    checkDeclarations(m, diags);
    const k = pathKey(m.package.path);
    const resolver = new Resolver(m, pkgRules.get(k)!, pkgFuncs.get(k)!, builtins, diags);
    for (const r of m.rules) {
      const rule = resolver.rule(r);
      addRule(root, sets, { rule, module: m, ...splitPath(m, rule) }, diags);
    }
  }
  return { root, sets };
}

/** Make sure the tree has a node for a package (an empty package reads as `{}`). */
function packageNode(root: TreeNode, path: string[]): void {
  let node = root;
  for (const seg of path) {
    let child = node.children.get(seg);
    if (child === undefined) {
      child = { path: [...node.path, seg], children: new Map() };
      node.children.set(seg, child);
    }
    node = child;
  }
  node.isPackage = true;
}

function splitPath(m: ast.Module, rule: ast.Rule): { path: string[]; dyn: ast.Term[] } {
  const path = [...m.package.path, rule.head.ref[0].name];
  const rest = rule.head.ref.slice(1);
  let i = 0;
  // A complete rule's last element may be a constant; partial object keys stay dynamic.
  while (i < rest.length && rest[i]!.type === 'string') {
    path.push((rest[i] as ast.StringTerm).value);
    i++;
  }
  return { path, dyn: rest.slice(i) };
}

function addRule(
  root: TreeNode,
  sets: Map<string, RuleSet>,
  info: RuleInfo,
  diags: Diagnostic[],
): void {
  let node = root;
  for (const seg of info.path) {
    let child = node.children.get(seg);
    if (child === undefined) {
      child = { path: [...node.path, seg], children: new Map() };
      node.children.set(seg, child);
    }
    node = child;
  }
  const { rule } = info;
  const kind = rule.kind;
  let set = node.ruleSet;
  if (set === undefined) {
    set = { path: info.path, kind, rules: [] };
    if (kind === 'function') set.arity = rule.head.args?.length ?? 0;
    node.ruleSet = set;
    sets.set(pathKey(info.path), set);
  } else if (!compatible(set, info)) {
    const name = ['data', ...info.path].join('.');
    diags.push(diagnostic(rule.loc, 'rego_type_error', `conflicting rules ${name} found`));
    return;
  }
  if (
    rule.default &&
    kind === 'partialObject' &&
    info.dyn.length === 1 &&
    isConstant(info.dyn[0]!)
  ) {
    set.keyedDefaults ??= [];
    set.keyedDefaults.push(info);
    return;
  }
  if (rule.default) {
    if (set.defaultRule !== undefined) {
      const name = ['data', ...info.path].join('.');
      diags.push(diagnostic(rule.loc, 'rego_type_error', `multiple default rules ${name} found`));
      return;
    }
    set.defaultRule = info;
    return;
  }
  set.rules.push(info);
}

function compatible(set: RuleSet, info: RuleInfo): boolean {
  const kind = info.rule.kind;
  if (set.kind === 'function' || kind === 'function') {
    return set.kind === kind && set.arity === (info.rule.head.args?.length ?? 0);
  }
  const objectLike = (k: ast.RuleKind, dyn: number): boolean =>
    k === 'partialObject' || (k === 'partialSet' && dyn > 0);
  if (set.kind === kind) {
    if (kind !== 'partialSet') return true;
    const firstDyn = set.rules[0]?.dyn.length ?? info.dyn.length;
    return (firstDyn === 0) === (info.dyn.length === 0);
  }
  const setDyn = set.rules[0]?.dyn.length ?? 0;
  return objectLike(set.kind, setDyn) && objectLike(kind, info.dyn.length);
}

/** Rewrites one module's rules: resolves globals, imports and calls. */
class Resolver {
  private readonly imports = new Map<string, ast.RefTerm>();
  private locals = new Set<string>();

  constructor(
    private readonly mod: ast.Module,
    private readonly ruleNames: Set<string>,
    /** Root names of the package's functions: they shadow builtins of the same name. */
    private readonly funcNames: Set<string>,
    private readonly builtins: Readonly<Record<string, number>>,
    private readonly diags: Diagnostic[],
  ) {
    for (const imp of mod.imports) {
      const head = imp.path.head;
      if (head.type !== 'var' || (head.name !== 'data' && head.name !== 'input')) continue;
      const last = imp.path.path[imp.path.path.length - 1];
      const alias = imp.alias ?? (last?.type === 'string' ? last.value : head.name);
      if (alias !== 'data' && alias !== 'input') this.imports.set(alias, imp.path);
    }
  }

  rule(r: ast.Rule): ast.Rule {
    this.locals = new Set();
    collectDeclared(r, this.locals);
    const head: ast.RuleHead = { ...r.head, ref: r.head.ref };
    if (r.head.args !== undefined) head.args = r.head.args.map((t) => this.term(t));
    if (r.head.key !== undefined) head.key = this.term(r.head.key);
    if (r.head.value !== undefined) head.value = this.term(r.head.value);
    head.ref = [r.head.ref[0], ...r.head.ref.slice(1).map((t) => this.term(t))];
    const out: ast.Rule = { ...r, head, body: this.body(r.body) };
    if (r.else !== undefined) out.else = this.rule(r.else);
    return out;
  }

  private body(b: ast.Body): ast.Body {
    return b.map((e) => this.expr(e));
  }

  private expr(e: ast.Expr): ast.Expr {
    const withs = e.with.map((w) => ({
      ...w,
      target: this.withTarget(w.target),
      value: this.term(w.value),
    }));
    switch (e.kind) {
      case 'term':
        return { ...e, with: withs, term: this.term(e.term) };
      case 'some':
        return { ...e, with: withs };
      case 'somein': {
        const out: ast.SomeIn = {
          ...e,
          with: withs,
          value: this.term(e.value),
          collection: this.term(e.collection),
        };
        if (e.key !== undefined) out.key = this.term(e.key);
        return out;
      }
      case 'every':
        return { ...e, with: withs, domain: this.term(e.domain), body: this.body(e.body) };
    }
  }

  /** `with` targets: input/data refs stay; a function name resolves like a call operator. */
  private withTarget(t: ast.RefTerm): ast.RefTerm {
    const head = t.head;
    if (head.type === 'var' && (head.name === 'input' || head.name === 'data')) return t;
    const resolved = this.term(t);
    if (resolved.type === 'ref') return resolved;
    return t;
  }

  term(t: ast.Term): ast.Term {
    switch (t.type) {
      case 'var':
        return this.globalRef(t, []) ?? t;
      case 'ref': {
        const path = t.path.map((p) => this.term(p));
        if (t.head.type === 'var') {
          const g = this.globalRef(t.head, path);
          if (g !== undefined) return { ...g, loc: t.loc };
          return { ...t, path };
        }
        return { ...t, head: this.term(t.head), path };
      }
      case 'array':
        return { ...t, items: t.items.map((x) => this.term(x)) };
      case 'set':
        return { ...t, items: t.items.map((x) => this.term(x)) };
      case 'object':
        return { ...t, entries: t.entries.map(([k, v]) => [this.term(k), this.term(v)]) };
      case 'arraycompr':
      case 'setcompr':
        return { ...t, term: this.term(t.term), body: this.body(t.body) };
      case 'objectcompr':
        return { ...t, key: this.term(t.key), value: this.term(t.value), body: this.body(t.body) };
      case 'call':
        return {
          ...t,
          operator: this.operator(t.operator, t.args.length),
          args: t.args.map((x) => this.term(x)),
        };
      default:
        return t;
    }
  }

  /** The full ref for a var naming a rule of the package or an import; undefined for locals. */
  private globalRef(v: ast.VarTerm, path: ast.Term[]): ast.RefTerm | undefined {
    if (this.locals.has(v.name)) return undefined;
    const imp = this.imports.get(v.name);
    if (imp !== undefined) return { ...imp, loc: v.loc, path: [...imp.path, ...path] };
    if (!this.ruleNames.has(v.name)) return undefined;
    const loc = v.loc;
    const pkg: ast.Term[] = this.mod.package.path.map((value) => ({ type: 'string', loc, value }));
    const name: ast.StringTerm = { type: 'string', loc, value: v.name };
    return {
      type: 'ref',
      loc,
      head: { type: 'var', loc, name: 'data' },
      path: [...pkg, name, ...path],
    };
  }

  /** Resolve a call operator to a builtin name (`count`) or a user function (`data.p.f`). */
  private operator(op: ast.RefTerm, nargs: number): ast.RefTerm {
    const head = op.head;
    const strs = op.path.every((p) => p.type === 'string');
    if (head.type !== 'var' || !strs) return op;
    const dotted = [head.name, ...op.path.map((p) => (p as ast.StringTerm).value)].join('.');
    if (head.name === 'data') return op;
    // A rule (not a function) named like a builtin does not hide it: `lt := 1` and `a < b`.
    const builtinWins =
      this.builtins[dotted] !== undefined &&
      !this.funcNames.has(head.name) &&
      !this.imports.has(head.name);
    if (
      !this.locals.has(head.name) &&
      !builtinWins &&
      (this.imports.has(head.name) || this.ruleNames.has(head.name))
    ) {
      const g = this.globalRef(head, op.path);
      if (g !== undefined) return g;
    }
    if (dotted === 'print') return op;
    const arity = this.builtins[dotted];
    if (arity === undefined) {
      this.diags.push(diagnostic(op.loc, 'rego_type_error', `undefined function ${dotted}`));
    } else if (arity >= 0 && nargs !== arity && nargs !== arity + 1) {
      this.diags.push(
        diagnostic(
          op.loc,
          'rego_type_error',
          `${dotted}: arity mismatch: expected ${arity} arguments, got ${nargs}`,
        ),
      );
    }
    return op;
  }
}

/** Names a rule declares locally (args, `some`, `:=`, `some ... in`, `every`) anywhere in it. */
function collectDeclared(r: ast.Rule, out: Set<string>): void {
  const vars = (t: ast.Term | undefined): void => {
    if (t === undefined) return;
    if (t.type === 'var') out.add(t.name);
    else if (t.type === 'array' || t.type === 'set') t.items.forEach(vars);
    else if (t.type === 'object') t.entries.forEach(([, v]) => vars(v));
  };
  r.head.args?.forEach(vars);
  const visitTerm = (t: ast.Term): void => {
    switch (t.type) {
      case 'call':
        if (t.operator.head.type === 'var' && t.operator.head.name === 'assign') vars(t.args[0]);
        t.args.forEach(visitTerm);
        break;
      case 'arraycompr':
      case 'setcompr':
        visitTerm(t.term);
        visitBody(t.body);
        break;
      case 'objectcompr':
        visitTerm(t.key);
        visitTerm(t.value);
        visitBody(t.body);
        break;
      case 'array':
      case 'set':
        t.items.forEach(visitTerm);
        break;
      case 'object':
        t.entries.forEach(([k, v]) => {
          visitTerm(k);
          visitTerm(v);
        });
        break;
      case 'ref':
        visitTerm(t.head);
        t.path.forEach(visitTerm);
        break;
      default:
        break;
    }
  };
  const visitBody = (b: ast.Body): void => {
    for (const e of b) {
      if (e.kind === 'some') e.vars.forEach(vars);
      else if (e.kind === 'somein') {
        vars(e.key);
        vars(e.value);
        visitTerm(e.collection);
      } else if (e.kind === 'every') {
        vars(e.key);
        vars(e.value);
        visitTerm(e.domain);
        visitBody(e.body);
      } else visitTerm(e.term);
      for (const w of e.with) visitTerm(w.value);
    }
  };
  visitBody(r.body);
  if (r.head.value !== undefined) visitTerm(r.head.value);
  if (r.head.key !== undefined) visitTerm(r.head.key);
}

/** Scalars: the keys a default of one partial-object entry may name. */
function isConstant(t: ast.Term): boolean {
  return t.type === 'null' || t.type === 'boolean' || t.type === 'number' || t.type === 'string';
}
