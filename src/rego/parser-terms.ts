/**
 * The term and expression half of the Rego parser: literals, refs, calls, collections,
 * comprehensions, infix operators with OPA's precedence, and body literals (`some`, `every`,
 * `not`, `with`). Module structure (package, imports, rules) is in parser.ts.
 */

import type * as ast from './ast.js';
import { diagnostic, type Diagnostic } from './diagnostics.js';
import type { Token } from './lexer.js';

/** Raised to abandon the current rule after a syntax error; the parser then resynchronises. */
export class ParseAbort extends Error {}

/** Infix operators by precedence level (lowest first), mapped to their builtin names. */
const LEVELS: Array<Record<string, string>> = [
  { '==': 'equal', '!=': 'neq', '<': 'lt', '<=': 'lte', '>': 'gt', '>=': 'gte' },
  { '|': 'or' },
  { '&': 'and' },
  { '+': 'plus', '-': 'minus' },
  { '*': 'mul', '/': 'div', '%': 'rem' },
];

/** Options that change how terms parse inside a context. */
interface TermContext {
  /** Allow `k, v in xs` (a whole body literal, its right-hand side, or a rule head value). */
  keyValue?: boolean;
}

/** Token cursor plus term/expression parsing, shared by module, query and term parsing. */
export class TermParser {
  pos = 0;
  readonly diagnostics: Diagnostic[] = [];
  /** Words that are keywords here (v1: all of if/contains/in/every; v0: as imported). */
  readonly keywords = new Set<string>(['if', 'contains', 'in', 'every']);
  private wildcards = 0;

  constructor(
    readonly tokens: Token[],
    readonly file: string,
  ) {}

  /** The token `k` positions ahead (eof at the end). */
  peek(k = 0): Token {
    return this.tokens[Math.min(this.pos + k, this.tokens.length - 1)]!;
  }

  /** Consume and return the current token. */
  next(): Token {
    const t = this.peek();
    if (this.pos < this.tokens.length - 1) this.pos++;
    return t;
  }

  /** The source position of a token. */
  loc(t: Token = this.peek()): ast.Location {
    return { file: this.file, line: t.line, col: t.col };
  }

  /** True when the token `k` ahead is the punctuation `v`. */
  isPunct(v: string, k = 0): boolean {
    const t = this.peek(k);
    return t.kind === 'punct' && t.value === v;
  }

  /** True when the token `k` ahead is the identifier `v`. */
  isWord(v: string, k = 0): boolean {
    const t = this.peek(k);
    return t.kind === 'ident' && t.value === v;
  }

  /** True when the token `k` ahead is `v` and `v` is a keyword in this module. */
  isKeyword(v: string, k = 0): boolean {
    return this.keywords.has(v) && this.isWord(v, k);
  }

  /** Record a parse error at `t` and abandon the current rule. */
  error(t: Token, msg: string): never {
    this.diagnostics.push(diagnostic(this.loc(t), 'rego_parse_error', msg));
    throw new ParseAbort(msg);
  }

  /** Consume the punctuation `v` or fail. */
  expectPunct(v: string): Token {
    const t = this.peek();
    if (t.kind !== 'punct' || t.value !== v) this.error(t, `expected ${v}, found ${describe(t)}`);
    return this.next();
  }

  /** Parse a body between braces: expressions separated by `;` or newlines. */
  parseBraceBody(): ast.Body {
    this.expectPunct('{');
    const body: ast.Body = [];
    while (!this.isPunct('}')) {
      if (this.peek().kind === 'eof') this.error(this.peek(), 'unexpected eof, expected }');
      body.push(this.parseLiteral());
      if (this.isPunct(';')) {
        this.next();
        continue;
      }
      if (!this.isPunct('}') && !this.peek().nl) {
        this.error(this.peek(), `unexpected ${describe(this.peek())}, expected end of expression`);
      }
    }
    this.next();
    if (body.length === 0) this.error(this.peek(-1), 'found empty body');
    return body;
  }

  /** Parse one body literal: `some`, `every`, or `[not] expr [with ... as ...]*`. */
  parseLiteral(): ast.Expr {
    const start = this.peek();
    const loc = this.loc(start);
    if (this.isWord('some')) return this.parseSome();
    if (this.isKeyword('every')) return this.withMods(this.parseEvery(), false);
    let negated = false;
    if (this.isWord('not')) {
      this.next();
      negated = true;
    }
    const term = this.parseExprTerm(true);
    const expr: ast.TermExpr = { kind: 'term', loc, negated, with: [], term };
    return this.withMods(expr, negated);
  }

  private withMods<E extends ast.Expr>(expr: E, _negated: boolean): E {
    while (this.isWord('with')) {
      const w = this.next();
      const target = this.parseOperand({});
      if (target.type !== 'ref' && target.type !== 'var') {
        this.error(w, 'with target must be a reference');
      }
      if (!this.isWord('as'))
        this.error(this.peek(), `expected as, found ${describe(this.peek())}`);
      this.next();
      const value = this.parseInfix(0, {});
      const ref: ast.RefTerm =
        target.type === 'ref' ? target : { type: 'ref', loc: target.loc, head: target, path: [] };
      expr.with.push({ loc: this.loc(w), target: ref, value });
    }
    return expr;
  }

  private parseSome(): ast.Expr {
    const kw = this.next();
    const loc = this.loc(kw);
    const terms: ast.Term[] = [this.parseInfix(0, {})];
    while (this.isPunct(',')) {
      this.next();
      terms.push(this.parseInfix(0, {}));
    }
    if (this.isKeyword('in')) {
      this.next();
      const collection = this.parseInfix(0, {});
      if (terms.length > 2) this.error(kw, 'unexpected , in some declaration');
      const value = terms[terms.length - 1]!;
      const key = terms.length === 2 ? terms[0] : undefined;
      const e: ast.SomeIn = { kind: 'somein', loc, negated: false, with: [], value, collection };
      if (key !== undefined) e.key = key;
      return this.withMods(e, false);
    }
    const vars: ast.VarTerm[] = [];
    for (const t of terms) {
      if (t.type !== 'var') this.error(kw, 'expected var in some declaration');
      vars.push(t);
    }
    return { kind: 'some', loc, negated: false, with: [], vars };
  }

  private parseEvery(): ast.EveryExpr {
    const kw = this.next();
    const first = this.parseOperand({});
    let key: ast.Term | undefined;
    let value = first;
    if (this.isPunct(',')) {
      this.next();
      key = first;
      value = this.parseOperand({});
    }
    if (!this.isKeyword('in')) this.error(this.peek(), 'expected in after every variables');
    this.next();
    const domain = this.parseInfix(0, {});
    const body = this.parseBraceBody();
    if (value.type !== 'var' || (key !== undefined && key.type !== 'var')) {
      this.error(kw, 'every variables must be vars');
    }
    const e: ast.EveryExpr = {
      kind: 'every',
      loc: this.loc(kw),
      negated: false,
      with: [],
      value,
      domain,
      body,
    };
    if (key !== undefined) e.key = key as ast.VarTerm;
    return e;
  }

  /** An expression term: infix operators, `in`, and at the top `=` / `:=`. */
  parseExprTerm(literal = false): ast.Term {
    const lhs = this.parseMembership({ keyValue: literal });
    if (this.isPunct('=') || this.isPunct(':=')) {
      const op = this.next();
      // OPA reads the right-hand side like a literal: `b := k, v in xs` is a membership test.
      const rhs = this.parseMembership({ keyValue: literal });
      return call(op.value === '=' ? 'eq' : 'assign', [lhs, rhs], lhs.loc);
    }
    return lhs;
  }

  /** `x in xs`, `k, v in xs` (only at expression level) and tighter operators. */
  parseMembership(ctx: TermContext): ast.Term {
    let lhs = this.parseInfix(0, ctx);
    if (ctx.keyValue === true && this.isPunct(',') && this.looksLikeKeyValueIn()) {
      this.next();
      const value = this.parseInfix(0, ctx);
      this.next(); // `in`
      const coll = this.parseInfix(0, ctx);
      lhs = call('internal.member_3', [lhs, value, coll], lhs.loc);
    }
    while (this.isKeyword('in')) {
      this.next();
      const coll = this.parseInfix(0, ctx);
      lhs = call('internal.member_2', [lhs, coll], lhs.loc);
    }
    return lhs;
  }

  /** True when `, <term> in` follows; scans tokens without consuming them. */
  private looksLikeKeyValueIn(): boolean {
    const save = this.pos;
    const nDiags = this.diagnostics.length;
    try {
      this.next();
      this.parseInfix(0, {});
      return this.isKeyword('in');
    } catch {
      return false;
    } finally {
      this.pos = save;
      this.diagnostics.length = nDiags;
    }
  }

  /** Binary operators of precedence `level` and above (left associative). */
  parseInfix(level: number, ctx: TermContext): ast.Term {
    if (level >= LEVELS.length) return this.parseUnary(ctx);
    let lhs = this.parseInfix(level + 1, ctx);
    for (;;) {
      // As in OPA, an operator at the start of the next line continues the expression.
      const t = this.peek();
      const name = t.kind === 'punct' ? LEVELS[level]![t.value] : undefined;
      if (name === undefined) return lhs;
      this.next();
      const rhs = this.parseInfix(level + 1, ctx);
      lhs = call(name, [lhs, rhs], lhs.loc);
    }
  }

  /** Unary minus: OPA accepts it only on a number literal (`-1`, `- 1`), never on `-x`. */
  private parseUnary(ctx: TermContext): ast.Term {
    if (this.isPunct('-')) {
      const minus = this.next();
      const n = this.peek();
      if (n.kind !== 'number') this.error(minus, 'unary - can only be used with numeric literals');
      this.next();
      return this.parseRefRest({ type: 'number', loc: this.loc(minus), value: '-' + n.value });
    }
    return this.parseOperand(ctx);
  }

  /** A primary term followed by any `.x`, `[t]` and `(args)` suffixes. */
  parseOperand(_ctx: TermContext): ast.Term {
    return this.parseRefRest(this.parsePrimary());
  }

  private parsePrimary(): ast.Term {
    const t = this.peek();
    const loc = this.loc(t);
    switch (t.kind) {
      case 'number':
        this.next();
        return { type: 'number', loc, value: t.value };
      case 'string':
      case 'rawstring':
        this.next();
        return { type: 'string', loc, value: t.value };
      case 'ident':
        return this.parseIdent();
      case 'punct':
        if (t.value === '[') return this.parseArray();
        if (t.value === '{') return this.parseBrace();
        if (t.value === '(') {
          this.next();
          const inner = this.parseExprTerm(true);
          this.expectPunct(')');
          return inner;
        }
        break;
      default:
        break;
    }
    return this.error(t, `unexpected ${describe(t)}`);
  }

  private parseIdent(): ast.Term {
    const t = this.next();
    const loc = this.loc(t);
    switch (t.value) {
      case 'null':
        return { type: 'null', loc };
      case 'true':
      case 'false':
        return { type: 'boolean', loc, value: t.value === 'true' };
      case 'set':
        if (this.isPunct('(') && this.isPunct(')', 1)) {
          this.next();
          this.next();
          return { type: 'set', loc, items: [] };
        }
        break;
      default:
        break;
    }
    if (this.isReserved(t.value)) this.error(t, `unexpected ${t.value} keyword`);
    if (t.value === '_') return { type: 'var', loc, name: `$_${this.wildcards++}` };
    return { type: 'var', loc, name: t.value };
  }

  private isReserved(word: string): boolean {
    return (
      (this.keywords.has(word) && word !== 'contains') ||
      ['not', 'with', 'as', 'some', 'package', 'import', 'default', 'else'].includes(word)
    );
  }

  /**
   * A rule head's name and suffixes. As in OPA, spaces may separate the name from its first
   * suffix (`f (x) := ...`, `p [k] { ... }`), which in an expression would end the term.
   */
  parseHeadOperand(): ast.Term {
    return this.parseRefRest(this.parsePrimary(), true);
  }

  /** Suffixes: `.name`, `[term]`, `(args)`; a newline before a suffix ends the term. */
  parseRefRest(head: ast.Term, spaceBeforeFirst = false): ast.Term {
    let term = head;
    for (let first = true; ; first = false) {
      const t = this.peek();
      if (t.kind !== 'punct' || t.nl) return term;
      const ws = t.ws && !(first && spaceBeforeFirst);
      if (t.value === '.' && !ws) {
        this.next();
        const name = this.next();
        if (name.kind !== 'ident' || name.ws) this.error(name, `unexpected ${describe(name)}`);
        term = appendRef(term, { type: 'string', loc: this.loc(name), value: name.value });
      } else if (t.value === '[' && !ws) {
        this.next();
        const key = this.parseExprTerm();
        this.expectPunct(']');
        term = appendRef(term, key);
      } else if (t.value === '(' && !ws && isCallable(term)) {
        this.next();
        const args = this.parseList(')');
        const operator: ast.RefTerm =
          term.type === 'ref' ? term : { type: 'ref', loc: term.loc, head: term, path: [] };
        term = { type: 'call', loc: term.loc, operator, args };
      } else {
        return term;
      }
    }
  }

  /** Comma separated terms up to `close` (consumed); a trailing comma is allowed. */
  private parseList(close: string): ast.Term[] {
    const items: ast.Term[] = [];
    while (!this.isPunct(close)) {
      items.push(this.parseExprTerm());
      if (!this.isPunct(',')) break;
      this.next();
    }
    this.expectPunct(close);
    return items;
  }

  /**
   * `[...]`. As OPA's parser does, only a single term (a primary with its ref and call
   * suffixes) can head a comprehension: `[x | body]` is one, while `[x - y | z]` is an array
   * whose first item is `(x - y) | z` (set union); a head needing operators goes in parentheses.
   */
  private parseArray(): ast.Term {
    const open = this.next();
    const loc = this.loc(open);
    if (this.isPunct(']')) {
      this.next();
      return { type: 'array', loc, items: [] };
    }
    const start = this.pos;
    const head = this.parseUnary({});
    if (this.isPunct('|')) {
      const body = this.attempt(() => {
        this.next();
        return this.parseComprBody(']');
      });
      if (body !== undefined) return { type: 'arraycompr', loc, term: head, body };
      // What is not a comprehension is an array whose first item uses `|` as set union
      // (`[x | y, 5]`).
    }
    this.pos = start;
    return this.parseItems('array', loc, ']');
  }

  /**
   * `{...}`: an object, a set, or one of their comprehensions. The head is first read as a
   * single term, as OPA does: followed by `|` it heads a set comprehension, by `:` an object.
   * Otherwise it is read again with operators: an object key may use them (`{a + 1: b | ...}`
   * is still a comprehension), a set item may too, but then the set is never a comprehension.
   */
  private parseBrace(): ast.Term {
    const open = this.next();
    const loc = this.loc(open);
    if (this.isPunct('}')) {
      this.next();
      return { type: 'object', loc, entries: [] };
    }
    const start = this.pos;
    const head = this.parseUnary({});
    if (this.isPunct(':')) return this.parseObjectRest(loc, head);
    if (this.isPunct('|')) {
      const body = this.attempt(() => {
        this.next();
        return this.parseComprBody('}');
      });
      if (body !== undefined) return { type: 'setcompr', loc, term: head, body };
    } else if (!this.isPunct('}') && !this.isPunct(',')) {
      this.pos = start;
      const key = this.parseMembership({});
      if (this.isPunct(':')) return this.parseObjectRest(loc, key);
    }
    this.pos = start;
    return this.parseItems('set', loc, '}');
  }

  /**
   * The rest of an object after its first key: `: value` then a comprehension body or more
   * entries. Only a single-term value can head a comprehension (`{k: v | ...}`), as in OPA.
   */
  private parseObjectRest(loc: ast.Location, key: ast.Term): ast.Term {
    this.expectPunct(':');
    const start = this.pos;
    const head = this.parseUnary({});
    if (this.isPunct('|')) {
      const body = this.attempt(() => {
        this.next();
        return this.parseComprBody('}');
      });
      if (body !== undefined) return { type: 'objectcompr', loc, key, value: head, body };
    }
    this.pos = start;
    const entries: Array<[ast.Term, ast.Term]> = [[key, this.parseMembership({})]];
    while (this.isPunct(',')) {
      this.next();
      if (this.isPunct('}')) break;
      const k = this.parseMembership({});
      this.expectPunct(':');
      entries.push([k, this.parseMembership({})]);
    }
    this.expectPunct('}');
    return { type: 'object', loc, entries };
  }

  /**
   * Run `fn`; when it abandons with a parse error, undo its tokens and diagnostics and return
   * undefined, so the caller can read the same text another way.
   */
  private attempt<T>(fn: () => T): T | undefined {
    const save = this.pos;
    const nDiags = this.diagnostics.length;
    try {
      return fn();
    } catch (err) {
      if (!(err instanceof ParseAbort)) throw err;
      this.pos = save;
      this.diagnostics.length = nDiags;
      return undefined;
    }
  }

  /** Array or set items (`|` as union allowed) up to `close`, which is consumed. */
  private parseItems(type: 'array' | 'set', loc: ast.Location, close: string): ast.Term {
    const items = [this.parseMembership({})];
    while (this.isPunct(',')) {
      this.next();
      if (this.isPunct(close)) break;
      items.push(this.parseMembership({}));
    }
    this.expectPunct(close);
    return { type, loc, items };
  }

  /** A comprehension body: literals separated by `;` or newlines up to `close`. */
  private parseComprBody(close: string): ast.Body {
    const body: ast.Body = [];
    for (;;) {
      body.push(this.parseLiteral());
      if (this.isPunct(';')) {
        this.next();
        continue;
      }
      if (this.isPunct(close)) break;
      if (!this.peek().nl) this.error(this.peek(), `unexpected ${describe(this.peek())}`);
    }
    this.next();
    return body;
  }
}

/** Make a call term of a builtin/operator by dotted name. */
export function call(name: string, args: ast.Term[], loc: ast.Location): ast.CallTerm {
  return { type: 'call', loc, operator: nameRef(name, loc), args };
}

/** A ref for a dotted name: `a.b.c` → head var a, path strings b, c. */
export function nameRef(name: string, loc: ast.Location): ast.RefTerm {
  const parts = name.split('.');
  return {
    type: 'ref',
    loc,
    head: { type: 'var', loc, name: parts[0]! },
    path: parts.slice(1).map((value) => ({ type: 'string', loc, value })),
  };
}

function appendRef(term: ast.Term, el: ast.Term): ast.RefTerm {
  if (term.type === 'ref') return { ...term, path: [...term.path, el] };
  return { type: 'ref', loc: term.loc, head: term, path: [el] };
}

function isCallable(term: ast.Term): boolean {
  if (term.type === 'var') return true;
  return (
    term.type === 'ref' && term.head.type === 'var' && term.path.every((p) => p.type === 'string')
  );
}

/** Describe a token for an error message. */
export function describe(t: Token): string {
  if (t.kind === 'eof') return 'eof';
  if (t.kind === 'string') return 'string';
  return t.kind === 'ident' ? `ident ${t.value}` : `token ${t.value}`;
}
