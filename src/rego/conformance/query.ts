/**
 * Turns a conformance query into a module the compiler can build: the Wasm ABI evaluates
 * entrypoints (rules), not ad-hoc queries, so the query becomes the body of a comprehension
 * in a generated package, and its result set is one array value:
 *
 *   package __pgwarden_query
 *   results := [{"x": x, "y": y} | <query>]
 *
 * The generated text is the same in Rego v0 and v1, so it compiles under either setting.
 */
import type { Body, Expr, Term } from '../ast.js';
import { formatValue, type RValue } from '../testing/value.js';

/** The package of the generated module. */
export const QUERY_PACKAGE = '__pgwarden_query';
/** The rule holding the results; its entrypoint is `__pgwarden_query/results`. */
export const QUERY_ENTRYPOINT = `${QUERY_PACKAGE}/results`;
/** The file name of the generated module in diagnostics. */
export const QUERY_FILE = '__pgwarden_query.rego';

/** How results are shaped. */
export type QueryShape =
  /** One object of bindings per solution (OPA rows; regorus when the query binds vars). */
  | { readonly kind: 'bindings'; readonly vars: readonly string[] }
  /** Per solution, the array of each expression's value (regorus, query without vars). */
  | { readonly kind: 'expressions' };

/** What the generated module needs to know. */
export interface QueryPlan {
  readonly module: string;
  readonly shape: QueryShape;
}

/** Parses a query into an AST body when R1's parser is available. */
export type QueryParser = (text: string) => Body | undefined;

const KEYWORDS = new Set([
  'not',
  'some',
  'in',
  'every',
  'with',
  'as',
  'if',
  'contains',
  'else',
  'true',
  'false',
  'null',
  'import',
  'package',
  'default',
  'data',
  'input',
  'set',
]);

/**
 * Builds the query module.
 * - `valueWhenNoVars`: regorus reports each expression's value when the query binds no var.
 * - `inputTerm`: an input that JSON cannot carry (sets); it is attached with `with input as`.
 * - `dataRoots`: the top-level names of `data`, needed to answer the bare query `data` without
 *   the generated package reading itself.
 */
export function buildQueryModule(
  query: string,
  options: {
    valueWhenNoVars: boolean;
    inputTerm?: RValue;
    dataRoots?: readonly string[];
    parse?: QueryParser;
  },
): QueryPlan {
  const trimmed = query.trim();
  const vars = queryVars(trimmed, options.parse);
  let comprehension: string;
  let shape: QueryShape;
  if (trimmed === 'data') {
    const roots = (options.dataRoots ?? []).filter((r) => r !== QUERY_PACKAGE);
    const entries = roots.map((r) => `${JSON.stringify(r)}: data[${JSON.stringify(r)}]`);
    const whole = `{${entries.join(', ')}}`;
    if (options.valueWhenNoVars) {
      comprehension = `[[__pgw_v] | __pgw_v := ${whole}]`;
      shape = { kind: 'expressions' };
    } else {
      comprehension = `[{} | ${whole}]`;
      shape = { kind: 'bindings', vars: [] };
    }
  } else if (vars.length > 0 || !options.valueWhenNoVars) {
    const row = vars.map((v) => `${JSON.stringify(v)}: ${v}`).join(', ');
    comprehension = `[{${row}} |\n${trimmed}\n]`;
    shape = { kind: 'bindings', vars };
  } else {
    comprehension = expressionsComprehension(trimmed);
    shape = { kind: 'expressions' };
  }
  const body =
    options.inputTerm === undefined
      ? `results := ${comprehension}`
      : // `with` modifies an expression, not a rule head; a one-element outer comprehension
        // carries it, and the executor unwraps that element.
        `results := [__pgw_r | __pgw_r := ${comprehension} ` +
        `with input as ${formatValue(options.inputTerm)}]`;
  return { module: `package ${QUERY_PACKAGE}\n\n${body}\n`, shape };
}

/**
 * `[[v1, ..., vn] | ...]`: each expression's value per solution, as regorus reports a query
 * without vars. An expression that only succeeds or fails (unification, assignment, negation,
 * `some`, `every`) has the value `true`. With several expressions a `false` one fails the
 * solution; a lone expression reports `false` as its value.
 */
function expressionsComprehension(query: string): string {
  const exprs = splitExpressions(query);
  const body: string[] = [];
  const values: string[] = [];
  exprs.forEach((e, i) => {
    if (isStatement(e)) {
      body.push(e);
      values.push('true');
      return;
    }
    body.push(`__pgw_v${i} := ${e}`);
    if (exprs.length > 1) body.push(`__pgw_v${i} != false`);
    values.push(`__pgw_v${i}`);
  });
  return `[[${values.join(', ')}] |\n${body.join('\n')}\n]`;
}

function isStatement(expr: string): boolean {
  if (/^(not|some|every)\b/.test(expr)) return true;
  return topLevel(expr).some((t) => t === '=' || t === ':=');
}

/** The query's variables, in order of first appearance, without wildcards. */
export function queryVars(query: string, parse?: QueryParser): string[] {
  const body = parse?.(query);
  if (body) return varsOfBody(body);
  return lexicalVars(query);
}

/** Vars of a parsed body, outside comprehensions and `every` (those are local to them). */
export function varsOfBody(body: Body): string[] {
  const seen: string[] = [];
  const add = (name: string): void => {
    if (name.startsWith('$') || name === 'data' || name === 'input') return;
    if (!seen.includes(name)) seen.push(name);
  };
  const term = (t: Term): void => {
    switch (t.type) {
      case 'var':
        add(t.name);
        return;
      case 'ref':
        term(t.head);
        t.path.forEach(term);
        return;
      case 'array':
      case 'set':
        t.items.forEach(term);
        return;
      case 'object':
        t.entries.forEach(([k, v]) => {
          term(k);
          term(v);
        });
        return;
      case 'call':
        t.args.forEach(term);
        return;
      default:
        return;
    }
  };
  const expr = (e: Expr): void => {
    if (e.kind === 'term') term(e.term);
    else if (e.kind === 'some') e.vars.forEach(term);
    else if (e.kind === 'somein') {
      if (e.key) term(e.key);
      term(e.value);
      term(e.collection);
    }
  };
  body.forEach(expr);
  return seen;
}

interface Token {
  text: string;
  kind: 'ident' | 'string' | 'number' | 'punct';
}

function tokenize(text: string): Token[] {
  // Skipped: blanks and comments. Captured: strings, numbers, names, punctuation.
  const re = new RegExp(
    [
      String.raw`\s+`,
      '#[^\\n]*',
      String.raw`("(?:[^"\\]|\\.)*"|` + '`[^`]*`)',
      String.raw`(\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)`,
      String.raw`([A-Za-z_]\w*)`,
      '(:=|==|!=|<=|>=|.)',
    ].join('|'),
    'gs',
  );
  const out: Token[] = [];
  for (const m of text.matchAll(re)) {
    if (m[1]) out.push({ text: m[1], kind: 'string' });
    else if (m[2]) out.push({ text: m[2], kind: 'number' });
    else if (m[3]) out.push({ text: m[3], kind: 'ident' });
    else if (m[4]) out.push({ text: m[4], kind: 'punct' });
  }
  return out;
}

/**
 * Vars found by scanning tokens: an identifier not after `.`, not a keyword or root document,
 * and not the head of a call (`f(`, `a.b.f(`). Comprehension-local vars are not told apart;
 * the parser-based path does that.
 */
export function lexicalVars(query: string): string[] {
  const toks = tokenize(query);
  const seen: string[] = [];
  for (let i = 0; i < toks.length; i++) {
    const t = toks[i] as Token;
    if (t.kind !== 'ident' || KEYWORDS.has(t.text) || t.text === '_') continue;
    if (toks[i - 1]?.text === '.') continue;
    let j = i + 1;
    while (toks[j]?.text === '.' && toks[j + 1]?.kind === 'ident') j += 2;
    if (toks[j]?.text === '(') continue;
    if (!seen.includes(t.text)) seen.push(t.text);
  }
  return seen;
}

/** The tokens outside brackets. */
function topLevel(text: string): string[] {
  let depth = 0;
  const out: string[] = [];
  for (const t of tokenize(text)) {
    if (t.kind === 'punct' && '([{'.includes(t.text)) depth++;
    else if (t.kind === 'punct' && ')]}'.includes(t.text)) depth--;
    else if (depth === 0) out.push(t.text);
  }
  return out;
}

/** Splits a query at `;` and newlines outside brackets and strings. */
export function splitExpressions(query: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let quote = '';
  let start = 0;
  for (let i = 0; i < query.length; i++) {
    const c = query[i] as string;
    if (quote) {
      if (c === '\\' && quote === '"') i++;
      else if (c === quote) quote = '';
    } else if (c === '"' || c === '`') quote = c;
    else if ('([{'.includes(c)) depth++;
    else if (')]}'.includes(c)) depth--;
    else if (depth === 0 && (c === ';' || c === '\n')) {
      out.push(query.slice(start, i));
      start = i + 1;
    }
  }
  out.push(query.slice(start));
  return out.map((s) => s.trim()).filter((s) => s.length > 0);
}
