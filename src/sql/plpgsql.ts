/**
 * DO blocks in PL/pgSQL: the SQL statements and expressions inside the body are analysed so the
 * tables and columns a block touches appear in the facts. Dynamic SQL (`EXECUTE 'text'`) cannot
 * be seen; a body that does not parse contributes nothing (PostgreSQL refuses it when it runs).
 */
import { parsePlPgSQLSync, type DefElem, type Node } from 'libpg-query';
import { as, str } from './nodes.js';
import { parseStatements } from './parse.js';
import { Collector, type Ctx } from './scope.js';

/** PL/pgSQL parse modes (PostgreSQL's RawParseMode) of an embedded expression's text. */
const MODE_STATEMENT = 0;
const MODE_EXPRESSION = 2;

/** SQL text of an embedded PL/pgSQL expression, as a statement the SQL parser accepts. */
function statementText(query: string, mode: number): string {
  if (mode === MODE_STATEMENT) return query;
  if (mode === MODE_EXPRESSION) return `SELECT ${query}`;
  // Assignments (`x := expr`, `r.f := expr`, `a[1] := expr`): the value is after `:=`.
  const at = query.indexOf(':=');
  return `SELECT ${at >= 0 ? query.slice(at + 2) : query}`;
}

/** Collects the text of every PLpgSQL_expr in a PL/pgSQL parse tree. */
function collect(value: unknown, out: string[]): void {
  if (value === null || typeof value !== 'object') return;
  if (Array.isArray(value)) {
    for (const v of value) collect(v, out);
    return;
  }
  const expr = (value as { PLpgSQL_expr?: { query?: string; parseMode?: number } }).PLpgSQL_expr;
  if (expr?.query !== undefined) {
    out.push(statementText(expr.query, expr.parseMode ?? 0));
    return;
  }
  for (const v of Object.values(value)) collect(v, out);
}

/** The body and language of a DO statement's arguments. */
function doArgs(args: Node[] | undefined): { body: string | undefined; language: string } {
  let body: string | undefined;
  let language = 'plpgsql';
  for (const arg of args ?? []) {
    const def = as<DefElem>(arg, 'DefElem');
    if (def?.defname === 'as') body = str(def.arg);
    if (def?.defname === 'language') language = (str(def.arg) ?? language).toLowerCase();
  }
  return { body, language };
}

/**
 * Analyses the statements inside a DO block into `ctx.out`, using `analyse` for each one.
 * Returns the block's language.
 */
export function analyseDoBlock(
  args: Node[] | undefined,
  ctx: Ctx,
  analyse: (node: unknown, ctx: Ctx) => unknown,
): string {
  const { body, language } = doArgs(args);
  if (body === undefined || language !== 'plpgsql') return language;
  let tag = 'pgwarden';
  while (body.includes(`$${tag}$`)) tag += '_';
  let tree: unknown;
  try {
    tree = parsePlPgSQLSync(
      `CREATE FUNCTION pgwarden_do() RETURNS void LANGUAGE plpgsql AS $${tag}$${body}$${tag}$`,
    );
  } catch {
    return language;
  }
  const texts: string[] = [];
  collect(tree, texts);
  const sub: Ctx = { ...ctx, out: new Collector() };
  for (const text of texts) {
    try {
      for (const stmt of parseStatements(text)) analyse(stmt.node, sub);
    } catch {
      // An embedded expression that is not valid SQL on its own (a cursor's FOR ... IN
      // EXECUTE, for example) adds nothing; the rest of the block still counts.
    }
  }
  ctx.out.absorb(sub.out);
  return language;
}
