/**
 * The Rego abstract syntax tree produced by the parser and consumed by the checks, the
 * rewrites and the planner. It mirrors OPA's `ast` package: terms, expressions, bodies,
 * rules and modules, each with a source position (`loc`) so diagnostics can name
 * file:line:col.
 *
 * Conventions:
 * - Operators are calls: `x = y` is a call of `eq`, `x := y` of `assign`, `x == y` of `equal`,
 *   `x != y` of `neq`, `<`/`<=`/`>`/`>=` of `lt`/`lte`/`gt`/`gte`, `+ - * / %` of
 *   `plus minus mul div rem`, `&`/`|` of `and`/`or`, unary minus on a non-literal of `minus`
 *   with a 0 first argument, `x in xs` of `internal.member_2`, `k, v in xs` of
 *   `internal.member_3`, `print(...)` of `print`.
 * - A wildcard `_` is renamed by the parser to a unique var `$_<n>` (see `isWildcard`).
 * - Numbers keep the text written in the source (OPA keeps big integers and decimals exact).
 */

import type { SourcePosition } from './diagnostics.js';

/** A source position. */
export type Location = SourcePosition;

interface TermBase {
  loc: Location;
}

/** `null`. */
export interface NullTerm extends TermBase {
  type: 'null';
}

/** `true` / `false`. */
export interface BooleanTerm extends TermBase {
  type: 'boolean';
  value: boolean;
}

/** A number literal; `value` is its decimal text (e.g. `"1"`, `"-2.5"`, `"1e400"`). */
export interface NumberTerm extends TermBase {
  type: 'number';
  value: string;
}

/** A string literal (escapes already decoded; raw strings kept as written). */
export interface StringTerm extends TermBase {
  type: 'string';
  value: string;
}

/** A variable. Wildcards are renamed to `$_<n>`; rewrites introduce `$<name>` locals. */
export interface VarTerm extends TermBase {
  type: 'var';
  name: string;
}

/**
 * A reference: `head.path[0][path[1]]...`. `head` is usually a var (`input`, `data`, a local,
 * an import alias) but may be any term in OPA (`[1,2][i]`, `f(x).y`). Each `.name` element is a
 * string term; each `[t]` element is the term `t`.
 */
export interface RefTerm extends TermBase {
  type: 'ref';
  head: Term;
  path: Term[];
}

/** `[a, b]`. */
export interface ArrayTerm extends TermBase {
  type: 'array';
  items: Term[];
}

/** `{k: v, ...}`. */
export interface ObjectTerm extends TermBase {
  type: 'object';
  entries: Array<[Term, Term]>;
}

/** `{a, b}`; the empty set is written `set()`. */
export interface SetTerm extends TermBase {
  type: 'set';
  items: Term[];
}

/** `[term | body]`. */
export interface ArrayComprehension extends TermBase {
  type: 'arraycompr';
  term: Term;
  body: Body;
}

/** `{term | body}`. */
export interface SetComprehension extends TermBase {
  type: 'setcompr';
  term: Term;
  body: Body;
}

/** `{key: value | body}`. */
export interface ObjectComprehension extends TermBase {
  type: 'objectcompr';
  key: Term;
  value: Term;
  body: Body;
}

/**
 * A call `op(args...)`. `operator` is a ref of a builtin (`count`, `time.now_ns`) or a user
 * function (`f`, `data.pkg.f`, `alias.f`). Infix operators are calls too (see the top).
 */
export interface CallTerm extends TermBase {
  type: 'call';
  operator: RefTerm;
  args: Term[];
}

/** Any Rego term. */
export type Term =
  | NullTerm
  | BooleanTerm
  | NumberTerm
  | StringTerm
  | VarTerm
  | RefTerm
  | ArrayTerm
  | ObjectTerm
  | SetTerm
  | ArrayComprehension
  | SetComprehension
  | ObjectComprehension
  | CallTerm;

/** Scalar terms: those whose value is known without evaluation. */
export type ScalarTerm = NullTerm | BooleanTerm | NumberTerm | StringTerm;

/** `with target as value`, attached to an expression. `target` is a ref (input, data, fn). */
export interface WithModifier {
  loc: Location;
  target: RefTerm;
  value: Term;
}

interface ExprBase {
  loc: Location;
  /** `not expr`. */
  negated: boolean;
  /** The `with` modifiers of this expression, in source order. */
  with: WithModifier[];
}

/** An expression that is a term, often a call (`x = y`, `count(xs) > 1`, `f(x)`). */
export interface TermExpr extends ExprBase {
  kind: 'term';
  term: Term;
}

/** `some x, y` declares local vars. */
export interface SomeDecl extends ExprBase {
  kind: 'some';
  vars: VarTerm[];
}

/** `some v in xs` / `some k, v in xs`: iterate a collection (keys bind `key`). */
export interface SomeIn extends ExprBase {
  kind: 'somein';
  key?: Term;
  value: Term;
  collection: Term;
}

/** `every v in xs { body }` / `every k, v in xs { body }`. */
export interface EveryExpr extends ExprBase {
  kind: 'every';
  key?: VarTerm;
  value: VarTerm;
  domain: Term;
  body: Body;
}

/** Any expression of a body. */
export type Expr = TermExpr | SomeDecl | SomeIn | EveryExpr;

/** A conjunction of expressions (a rule body or a query). */
export type Body = Expr[];

/**
 * The kind of a rule, derived from its head:
 * - `complete`: `p := v`, `p = v`, `p if ...`, `a.b.c := 1` (one value at a fixed path);
 * - `partialSet`: `p contains x` (v1) or `p[x]` (v0), also with ref heads `p[y].q contains x`;
 * - `partialObject`: `p[k] := v` and every head whose ref has a non-constant element;
 * - `function`: `f(args) := v`.
 */
export type RuleKind = 'complete' | 'partialSet' | 'partialObject' | 'function';

/** A rule head. */
export interface RuleHead {
  loc: Location;
  /**
   * The head reference: `ref[0]` is a var naming the rule's first segment; the rest are
   * string terms (`a.b`) or any term (`p[x]`). The set key of a `contains` rule is NOT in it.
   */
  ref: [VarTerm, ...Term[]];
  /** Function arguments. */
  args?: Term[];
  /** The element of a partial set rule (`p contains key`). */
  key?: Term;
  /** The value; `true` when the head has no value (`p if ...`). Absent for partial sets. */
  value?: Term;
  /** Written with `:=` (OPA forbids redefining such rules). */
  assign: boolean;
}

/** A rule, possibly with an `else` chain. */
export interface Rule {
  loc: Location;
  kind: RuleKind;
  /** `default p := v`. */
  default: boolean;
  head: RuleHead;
  /** The body; `[true]` when the rule has none. */
  body: Body;
  /** The next rule of `else` chain (shares the head's ref; own value). */
  else?: Rule;
  /** The file this rule comes from. */
  file: string;
}

/** `import data.x.y [as z]`, `import input.a`, `import rego.v1`, `import future.keywords.x`. */
export interface Import {
  loc: Location;
  path: RefTerm;
  alias?: string;
}

/** A parsed module (one file). */
export interface Module {
  file: string;
  /** The package path after `data` (e.g. `package a.b` gives `["a", "b"]`). */
  package: { loc: Location; path: string[] };
  imports: Import[];
  rules: Rule[];
  /** Syntax version the module was parsed with. */
  regoVersion: 'v0' | 'v1';
}

/** True for the vars the parser creates for `_`. */
export function isWildcard(v: VarTerm): boolean {
  return v.name.startsWith('$_');
}

/** The rule's path below `data`, as strings when constant: e.g. `["pkg", "p", "q"]`. */
export function rulePath(mod: Module, rule: Rule): Array<string | Term> {
  const out: Array<string | Term> = [...mod.package.path, rule.head.ref[0].name];
  for (const t of rule.head.ref.slice(1)) out.push(t.type === 'string' ? t.value : t);
  return out;
}
