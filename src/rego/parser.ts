/**
 * The Rego parser entry points: modules (package, imports, rules with their heads, bodies and
 * `else` chains), queries and single terms. Rego v1 syntax by default; `{ v0: true }` accepts
 * v0 syntax (bodies without `if`, `p[x] { ... }` partial sets), where `if`, `contains`, `in`
 * and `every` are keywords only after `import future.keywords...` or `import rego.v1`.
 * After a syntax error in a rule the parser skips to the next line that starts at column 1 and
 * goes on, so one run reports every rule's error.
 */

import type * as ast from './ast.js';
import { diagnostic, type Diagnostic } from './diagnostics.js';
import { tokenize } from './lexer.js';
import { ParseAbort, TermParser, describe } from './parser-terms.js';

/** Options of {@link parseModule}. */
export interface ParseOptions {
  /** Parse Rego v0 syntax (OPA's `--v0-compatible`). */
  v0?: boolean;
}

/** Result of parsing: the value when there was no error, and every diagnostic. */
export interface ParseResult<T> {
  diagnostics: Diagnostic[];
  module?: T;
}

const FUTURE_KEYWORDS = ['if', 'contains', 'in', 'every'];

/** Parse one Rego module (a file). */
export function parseModule(
  text: string,
  file: string,
  options: ParseOptions = {},
): { module?: ast.Module; diagnostics: Diagnostic[] } {
  const lexed = tokenize(text, file);
  const p = new TermParser(lexed.tokens, file);
  p.diagnostics.push(...lexed.diagnostics);
  const v0 = options.v0 === true;
  if (v0) p.keywords.clear();

  const pkg = parsePackage(p);
  if (pkg === undefined) return { diagnostics: p.diagnostics };
  const imports = parseImports(p, v0);
  // `import rego.v1` in a v0 module asks for v1 syntax from here on (as OPA does).
  const v1Import = imports.some((i) => refText(i.path) === 'rego.v1');
  checkImports(p, imports);
  const v0Rules = v0 && !v1Import;
  const rules: ast.Rule[] = [];
  while (p.peek().kind !== 'eof') {
    const before = p.pos;
    try {
      const rule = parseRule(p, v0Rules);
      rules.push(rule, ...chainedBodies(p, rule));
    } catch (err) {
      if (!(err instanceof ParseAbort)) throw err;
      resync(p, before);
    }
  }
  const module: ast.Module = {
    file,
    package: pkg,
    imports,
    rules,
    regoVersion: v0Rules ? 'v0' : 'v1',
  };
  if (p.diagnostics.length > 0) return { diagnostics: p.diagnostics };
  return { module, diagnostics: p.diagnostics };
}

/** Parse a query: body literals separated by `;` or newlines. */
export function parseQuery(
  text: string,
  file: string,
): { body?: ast.Body; diagnostics: Diagnostic[] } {
  const lexed = tokenize(text, file);
  const p = new TermParser(lexed.tokens, file);
  p.diagnostics.push(...lexed.diagnostics);
  const body: ast.Body = [];
  try {
    while (p.peek().kind !== 'eof') {
      body.push(p.parseLiteral());
      if (p.isPunct(';')) p.next();
      else if (!p.peek().nl) p.error(p.peek(), `unexpected ${describe(p.peek())}`);
    }
    if (body.length === 0) p.error(p.peek(), 'empty query');
  } catch (err) {
    if (!(err instanceof ParseAbort)) throw err;
  }
  if (p.diagnostics.length > 0) return { diagnostics: p.diagnostics };
  return { body, diagnostics: [] };
}

/** Parse a single term (e.g. an `input_term` such as `{"a": {1, 2}}`). */
export function parseTerm(
  text: string,
  file: string,
): { term?: ast.Term; diagnostics: Diagnostic[] } {
  const lexed = tokenize(text, file);
  const p = new TermParser(lexed.tokens, file);
  p.diagnostics.push(...lexed.diagnostics);
  let term: ast.Term | undefined;
  try {
    term = p.parseExprTerm();
    if (p.peek().kind !== 'eof') p.error(p.peek(), `unexpected ${describe(p.peek())}`);
  } catch (err) {
    if (!(err instanceof ParseAbort)) throw err;
  }
  if (p.diagnostics.length > 0 || term === undefined) return { diagnostics: p.diagnostics };
  return { term, diagnostics: [] };
}

function parsePackage(p: TermParser): ast.Module['package'] | undefined {
  const t = p.peek();
  try {
    if (!p.isWord('package')) p.error(t, 'package expected');
    p.next();
    const ref = p.parseOperand({});
    const parts = refParts(ref);
    if (parts === undefined) p.error(t, 'package name must be a reference of strings');
    if (parts[0] === 'data') parts.shift();
    return { loc: p.loc(t), path: parts };
  } catch (err) {
    if (!(err instanceof ParseAbort)) throw err;
    return undefined;
  }
}

function parseImports(p: TermParser, v0: boolean): ast.Import[] {
  const imports: ast.Import[] = [];
  while (p.isWord('import')) {
    const t = p.next();
    try {
      const ref = p.parseOperand({});
      const path: ast.RefTerm =
        ref.type === 'ref' ? ref : { type: 'ref', loc: ref.loc, head: ref, path: [] };
      const parts = refParts(path);
      const root = parts?.[0];
      if (parts === undefined || !['data', 'input', 'future', 'rego'].includes(root ?? '')) {
        p.error(t, 'invalid import path, must begin with input or data');
      }
      const imp: ast.Import = { loc: p.loc(t), path };
      if (p.isWord('as')) {
        p.next();
        const alias = p.next();
        if (alias.kind !== 'ident') p.error(alias, 'expected alias name after as');
        imp.alias = alias.value;
      }
      if (v0 && root === 'future' && parts[1] === 'keywords') {
        const kws = parts.length > 2 ? parts.slice(2) : FUTURE_KEYWORDS;
        for (const k of kws) p.keywords.add(k);
      }
      if (v0 && root === 'rego' && parts[1] === 'v1') {
        for (const k of FUTURE_KEYWORDS) p.keywords.add(k);
      }
      imports.push(imp);
    } catch (err) {
      if (!(err instanceof ParseAbort)) throw err;
      resync(p, p.pos);
    }
  }
  return imports;
}

/**
 * `rego.v1` implies the future keywords: importing both, or `rego.v1` twice, is an error, and
 * two imports may not bind the same alias.
 */
function checkImports(p: TermParser, imports: ast.Import[]): void {
  let seenV1 = false;
  let seenFuture = false;
  const aliases = new Set<string>();
  for (const imp of imports) {
    const text = refText(imp.path);
    const isV1 = text === 'rego.v1';
    const isFuture = text.startsWith('future.keywords');
    if ((isV1 && (seenV1 || seenFuture)) || (isFuture && seenV1)) {
      p.diagnostics.push(
        diagnostic(
          imp.loc,
          'rego_parse_error',
          `import ${text}: this import shadows previous import`,
        ),
      );
    }
    seenV1 ||= isV1;
    seenFuture ||= isFuture;
    if (isV1 || isFuture) continue;
    const last = imp.path.path[imp.path.path.length - 1];
    const alias = imp.alias ?? (last?.type === 'string' ? last.value : undefined);
    if (alias === undefined) continue;
    if (aliases.has(alias)) {
      p.diagnostics.push(
        diagnostic(
          imp.loc,
          'rego_compile_error',
          `import ${text}: this import shadows previous import`,
        ),
      );
    }
    aliases.add(alias);
  }
}

function refText(t: ast.RefTerm): string {
  return (refParts(t) ?? []).join('.');
}

/** The strings of a ref made only of a var head and string elements. */
function refParts(t: ast.Term): string[] | undefined {
  if (t.type === 'var') return [t.name];
  if (t.type !== 'ref' || t.head.type !== 'var') return undefined;
  const out = [t.head.name];
  for (const el of t.path) {
    if (el.type !== 'string') return undefined;
    out.push(el.value);
  }
  return out;
}

/** Skip to the next token that starts a line at column 1 (the likely start of a rule). */
function resync(p: TermParser, before: number): void {
  if (p.pos === before) p.next();
  while (p.peek().kind !== 'eof' && !(p.peek().nl && p.peek().col === 1)) p.next();
}

function parseRule(p: TermParser, v0: boolean): ast.Rule {
  const start = p.peek();
  const loc = p.loc(start);
  let isDefault = false;
  if (p.isWord('default')) {
    p.next();
    isDefault = true;
  }
  const headStart = p.peek();
  if (headStart.kind !== 'ident') p.error(headStart, `unexpected ${describe(headStart)}`);
  const headTerm = p.parseHeadOperand();
  const { ref, args } = headRef(p, headTerm, headStart);
  const head: ast.RuleHead = { loc: p.loc(headStart), ref, assign: false };
  if (args !== undefined) head.args = args;

  if (p.isKeyword('contains')) {
    if (isDefault) p.error(p.peek(), 'default rules cannot use contains');
    p.next();
    head.key = p.parseMembership({ keyValue: true });
  } else if (p.isPunct(':=') || p.isPunct('=')) {
    head.assign = p.next().value === ':=';
    head.value = p.parseMembership({ keyValue: true });
  }
  if (p.isWord('with')) {
    p.error(p.peek(), 'expressions using with keyword cannot be used for rule head');
  }
  if (isDefault) {
    if (head.value === undefined) p.error(headStart, 'default rule must have a value');
    const bad = nonConstant(head.value);
    if (bad !== undefined) p.error(headStart, `default rule value cannot contain ${bad}`);
    return { loc, kind: ruleKind(head), default: true, head, body: [trueExpr(loc)], file: p.file };
  }

  let body = parseRuleBody(p, v0);
  if (
    head.key === undefined &&
    head.value === undefined &&
    v0 &&
    ref.length === 2 &&
    args === undefined
  ) {
    // v0 `p[x] { ... }` (and `p.q { ... }`, for compatibility) declare a partial set.
    head.key = ref.pop()!;
  }
  if (head.key === undefined && head.value === undefined) {
    if (body === undefined) p.error(headStart, 'rule must have a value or a body');
    head.value = { type: 'boolean', loc: head.loc, value: true };
  }
  if (body === undefined) body = [trueExpr(head.loc)];
  const rule: ast.Rule = { loc, kind: ruleKind(head), default: false, head, body, file: p.file };

  let last = rule;
  while (p.isWord('else')) {
    const e = p.next();
    if (rule.kind !== 'complete' && rule.kind !== 'function') {
      p.error(e, 'else keyword cannot be used on multi-value rules');
    }
    let value: ast.Term = { type: 'boolean', loc: p.loc(e), value: true };
    if (p.isPunct(':=') || p.isPunct('=')) {
      p.next();
      value = p.parseMembership({ keyValue: true });
    }
    const elseBody = parseRuleBody(p, v0) ?? [trueExpr(p.loc(e))];
    const elseHead: ast.RuleHead = { ...head, loc: p.loc(e), value };
    const next: ast.Rule = {
      loc: p.loc(e),
      kind: rule.kind,
      default: false,
      head: elseHead,
      body: elseBody,
      file: p.file,
    };
    last.else = next;
    last = next;
  }
  return rule;
}

/** `if { ... }`, `if literal`, or (v0) `{ ... }`; undefined when there is no body. */
/**
 * `p { a } { b }`: each further body after the previous `}` is another rule with the same head
 * (OPA's deprecated disjunction syntax, still accepted by v0 and `rego.v1`).
 */
function chainedBodies(p: TermParser, rule: ast.Rule): ast.Rule[] {
  const out: ast.Rule[] = [];
  while (p.isPunct('{') && rule.kind !== 'function' && !rule.default) {
    const loc = p.loc();
    const next: ast.Rule = { ...rule, loc, body: p.parseBraceBody() };
    delete next.else;
    out.push(next);
  }
  return out;
}

function parseRuleBody(p: TermParser, v0: boolean): ast.Body | undefined {
  if (p.isKeyword('if')) {
    p.next();
    if (p.isPunct('{')) return p.parseBraceBody();
    return [p.parseLiteral()];
  }
  // As in OPA, the body may start on the next line: no rule can begin with `{`.
  if (p.isPunct('{')) {
    if (!v0) p.error(p.peek(), '`if` keyword is required before rule body');
    return p.parseBraceBody();
  }
  return undefined;
}

function headRef(
  p: TermParser,
  term: ast.Term,
  start: ReturnType<TermParser['peek']>,
): { ref: [ast.VarTerm, ...ast.Term[]]; args?: ast.Term[] } {
  if (term.type === 'var') return { ref: [term] };
  if (term.type === 'ref' && term.head.type === 'var') return { ref: [term.head, ...term.path] };
  if (term.type === 'call' && term.operator.head.type === 'var') {
    return { ref: [term.operator.head, ...term.operator.path], args: term.args };
  }
  return p.error(start, 'invalid rule head');
}

function ruleKind(head: ast.RuleHead): ast.RuleKind {
  if (head.args !== undefined) return 'function';
  if (head.key !== undefined) return 'partialSet';
  return head.ref.slice(1).every((t) => t.type === 'string') ? 'complete' : 'partialObject';
}

/** What makes a default value non-constant (a var, ref or call), if anything. */
function nonConstant(t: ast.Term): string | undefined {
  switch (t.type) {
    case 'var':
      return 'var';
    case 'ref':
      return 'ref';
    case 'call':
      return 'call';
    case 'array':
    case 'set':
      return t.items.map(nonConstant).find((x) => x !== undefined);
    case 'object':
      return t.entries
        .flat()
        .map(nonConstant)
        .find((x) => x !== undefined);
    default:
      // Scalars and comprehensions (evaluated on their own) are allowed.
      return undefined;
  }
}

function trueExpr(loc: ast.Location): ast.TermExpr {
  return {
    kind: 'term',
    loc,
    negated: false,
    with: [],
    term: { type: 'boolean', loc, value: true },
  };
}
