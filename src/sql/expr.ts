/**
 * Expressions: which source columns a value derives from. The rule is deliberately wide: every
 * column an expression mentions flows into its value (arguments, CASE conditions, window
 * partitions), because a masked value can leak through any of them. Only subqueries narrow it:
 * what flows out of a subquery is its output columns, not everything it read.
 */
import type { A_Expr, CaseExpr, ColumnRef, FuncCall, Node, SubLink, TypeCast } from 'libpg-query';
import { functionName } from './catalog.js';
import { as, unwrap, type Body } from './nodes.js';
import { analyseQuery } from './query.js';
import {
  cloneLin,
  emptyLin,
  mergeLin,
  unionLin,
  type Col,
  type Ctx,
  type Lin,
  type Mode,
  type Rel,
  type Scope,
} from './scope.js';

/** Node types that carry no column data. */
const LEAVES = new Set([
  'A_Const',
  'ParamRef',
  'String',
  'Integer',
  'Float',
  'Boolean',
  'BitString',
  'TypeName',
  'SQLValueFunction',
  'SetToDefault',
]);

/**
 * Built-in functions that hand their arguments' values on without computing on them: they cannot
 * fail on a value, act on it, or turn it into something else than a container of it. Their
 * arguments stay pass-through (the output's lineage still carries them, and masking redacts it);
 * every other function's arguments are computed on (`StatementFacts.columns.computed`).
 */
const PASS_THROUGH_FUNCTIONS = new Set([
  'row_to_json',
  'to_json',
  'to_jsonb',
  'array_to_json',
  'json_build_object',
  'jsonb_build_object',
  'json_build_array',
  'jsonb_build_array',
  'concat',
  'concat_ws',
  'array_agg',
  'string_agg',
  'json_agg',
  'jsonb_agg',
  'unnest',
  'first_value',
  'last_value',
  'lag',
  'lead',
  'nth_value',
]);

/**
 * Built-in functions that run SQL given as text, or dump whole tables, schemas, databases or
 * cursors: what they read cannot be seen in the statement, so their values' lineage is unknown.
 */
export const SQL_TEXT_FUNCTIONS = new Set([
  'query_to_xml',
  'query_to_xmlschema',
  'query_to_xml_and_xmlschema',
  'table_to_xml',
  'table_to_xmlschema',
  'table_to_xml_and_xmlschema',
  'cursor_to_xml',
  'cursor_to_xmlschema',
  'schema_to_xml',
  'schema_to_xmlschema',
  'schema_to_xml_and_xmlschema',
  'database_to_xml',
  'database_to_xmlschema',
  'database_to_xml_and_xmlschema',
  'ts_stat',
  'ts_rewrite',
]);

/**
 * Casts that cannot fail and keep the value's text: to `text`, `varchar` and `bpchar` without a
 * length. A length (`varchar(6)`, and `char`, which means `char(1)`) truncates: a prefix of a
 * value is a computation on it.
 */
const TEXT_TYPES = new Set(['text', 'varchar', 'bpchar']);

/**
 * True when a WHERE clause's value depends on the rows: it mentions a column of them. A constant
 * condition (`WHERE true`, `WHERE 1 = 1`, `WHERE random() < 2`) does not choose rows.
 */
export function choosesRows(lin: Lin): boolean {
  return lin.sources.size > 0 || lin.wholeRow.size > 0;
}

/** Runs `fn` with column references counting as computed on. */
export function computing<T>(ctx: Ctx, fn: () => T): T {
  if (ctx.computing) return fn();
  ctx.computing = true;
  try {
    return fn();
  } finally {
    ctx.computing = false;
  }
}

/** The lineage of a named column of `rel`, or null when the relation is known not to have it. */
export function findCol(rel: Rel, name: string): Lin | null {
  let lin: Lin | null = null;
  if (rel.columns) {
    const col = rel.columns.find((c) => c.name === name);
    if (!col) return null;
    lin = cloneLin(col.lin);
  } else if (rel.anyColumn) {
    lin = cloneLin(rel.anyColumn);
    lin.exact = false;
  } else if (rel.table) {
    lin = emptyLin();
    lin.sources.add(`${rel.table}.${name}`);
    lin.exact = true;
  } else {
    lin = emptyLin();
    lin.unknown = true;
  }
  const extra = rel.overlay?.get(name);
  if (extra) {
    for (const s of extra.sources) lin.sources.add(s);
    for (const w of extra.wholeRow) lin.wholeRow.add(w);
    lin.unknown ||= extra.unknown;
  }
  return lin;
}

/** The columns `rel.*` expands to; one unknown column when they are not known. */
export function relColumns(rel: Rel): Col[] {
  if (rel.columns) return rel.columns.map((c) => ({ name: c.name, lin: findCol(rel, c.name)! }));
  if (rel.anyColumn) return [{ name: rel.alias, lin: findCol(rel, rel.alias)! }];
  const lin = emptyLin();
  lin.unknown = true;
  if (rel.table) lin.wholeRow.add(rel.table);
  return [{ name: '*', lin }];
}

/** Lineage of a whole-row value (`c`, `c.*`, `row_to_json(c)`): every column of the relation. */
export function wholeRowLin(rel: Rel): Lin {
  const lin = emptyLin();
  if (rel.table) lin.wholeRow.add(rel.table);
  if (rel.columns || rel.anyColumn) {
    for (const c of relColumns(rel)) mergeLin(lin, c.lin);
  } else if (!rel.table) {
    lin.unknown = true;
  }
  lin.exact = false;
  return lin;
}

function unknownLin(): Lin {
  const lin = emptyLin();
  lin.unknown = true;
  return lin;
}

/** Resolves an unqualified name as PostgreSQL does: innermost level first, columns before rows. */
function resolveName(name: string, scope: Scope | null): Lin {
  for (let s = scope; s; s = s.parent) {
    const known: Lin[] = [];
    const unsure: Rel[] = [];
    for (const rel of s.rels) {
      if (rel.columns) {
        const lin = findCol(rel, name);
        if (lin) known.push(lin);
      } else {
        unsure.push(rel);
      }
    }
    if (known.length > 0) return unionLin(known);
    const row = s.rels.find((r) => r.alias === name);
    if (row) return wholeRowLin(row);
    // Without the catalog the column could belong to any relation whose columns are unknown;
    // claiming all of them over-approximates, which is the safe direction.
    if (unsure.length > 0) return unionLin(unsure.map((r) => findCol(r, name)!));
  }
  return unknownLin();
}

function findRel(scope: Scope | null, alias: string, schema?: string): Rel | undefined {
  for (let s = scope; s; s = s.parent) {
    const rel = s.rels.find((r) => r.alias === alias && (!schema || r.schema === schema));
    if (rel) return rel;
  }
  return undefined;
}

/** Resolves a ColumnRef's fields (`col`, `t.col`, `s.t.col`, `t.*`) to a lineage. */
export function resolveColumnRef(fields: Node[], scope: Scope | null): Lin {
  const names = fields.map((f) => as<{ sval?: string }>(f, 'String')?.sval ?? '*');
  const last = names[names.length - 1] as string;
  if (names.length === 1) {
    if (last === '*') {
      const lin = emptyLin();
      for (const rel of scope?.rels ?? []) mergeLin(lin, wholeRowLin(rel));
      return lin;
    }
    return resolveName(last, scope);
  }
  const relName = names[names.length - 2] as string;
  const schema = names.length >= 3 ? names[names.length - 3] : undefined;
  const rel = findRel(scope, relName, schema);
  if (rel) {
    if (last === '*') return wholeRowLin(rel);
    return findCol(rel, last) ?? unknownLin();
  }
  // `compositecol.field`: the field derives from the composite column.
  if (names.length === 2) {
    const lin = resolveName(relName, scope);
    lin.exact = false;
    return lin;
  }
  return unknownLin();
}

function walkFuncCall(call: FuncCall, scope: Scope | null, ctx: Ctx, mode: Mode): Lin {
  const parts = (call.funcname ?? []).map((n) => as<{ sval?: string }>(n, 'String')?.sval ?? '');
  const name = functionName(ctx.catalog, ctx.searchPath, parts);
  ctx.out.functions.add(name);
  // Without a catalog, an unqualified name is taken for a built-in (as `pgwarden analyze` does).
  const builtin = name.startsWith('pg_catalog.') || (!ctx.catalog && !name.includes('.'));
  const base = name.slice(name.lastIndexOf('.') + 1);
  const lin = emptyLin();
  const args = () => mergeLin(lin, walkExpr(call.args, scope, ctx, mode));
  if (builtin && PASS_THROUGH_FUNCTIONS.has(base)) args();
  else computing(ctx, args);
  // Aggregate ORDER BY and FILTER and window clauses compare and choose values.
  computing(ctx, () => {
    for (const part of [call.agg_order, call.agg_filter, call.over]) {
      if (part !== undefined) mergeLin(lin, walkExpr(part, scope, ctx, mode));
    }
  });
  lin.exact = false;
  // A function outside PostgreSQL's own catalog can read any table itself and return what it
  // found, whatever its arguments: its value's lineage is unknown, and masking fails closed.
  // So is that of a built-in that runs SQL given as text.
  if (!builtin || SQL_TEXT_FUNCTIONS.has(base)) lin.unknown = true;
  return lin;
}

function walkSubLink(link: SubLink, scope: Scope | null, ctx: Ctx, mode: Mode): Lin {
  // A scalar or ARRAY subquery hands its value on; EXISTS, IN, ANY and ALL compare values.
  const passes = link.subLinkType === 'EXPR_SUBLINK' || link.subLinkType === 'ARRAY_SUBLINK';
  const walk = () => {
    const outputs = analyseQuery(link.subselect, scope, ctx, mode);
    const lin =
      link.subLinkType === 'EXPR_SUBLINK' && outputs.length === 1
        ? cloneLin((outputs[0] as Col).lin)
        : unionLin(outputs.map((o) => o.lin).concat(emptyLin()));
    if (link.testexpr) mergeLin(lin, walkExpr(link.testexpr, scope, ctx, mode));
    return lin;
  };
  return passes ? walk() : computing(ctx, walk);
}

/** `CASE`: the value tested and the WHEN conditions are computed on, the results pass. */
function walkCase(expr: CaseExpr, scope: Scope | null, ctx: Ctx, mode: Mode): Lin {
  const lin = computing(ctx, () => walkExpr(expr.arg, scope, ctx, mode));
  for (const item of expr.args ?? []) {
    const when = as<{ expr?: Node; result?: Node }>(item, 'CaseWhen');
    if (!when) continue;
    mergeLin(
      lin,
      computing(ctx, () => walkExpr(when.expr, scope, ctx, mode)),
    );
    mergeLin(lin, walkExpr(when.result, scope, ctx, mode));
  }
  mergeLin(lin, walkExpr(expr.defresult, scope, ctx, mode));
  return lin;
}

/** A cast to a text type keeps the value; any other cast parses it, and may fail on it. */
function walkTypeCast(cast: TypeCast, scope: Scope | null, ctx: Ctx, mode: Mode): Lin {
  const names = (cast.typeName?.names ?? []).map((n) => as<{ sval?: string }>(n, 'String')?.sval);
  const type = names[names.length - 1] ?? '';
  const toText =
    TEXT_TYPES.has(type) && !cast.typeName?.arrayBounds && !cast.typeName?.typmods?.length;
  const walk = () => walkExpr(cast.arg, scope, ctx, mode);
  const lin = toText ? walk() : computing(ctx, walk);
  lin.exact = false;
  return lin;
}

/** Operators compute, but for text concatenation (`||`), which cannot fail on its operands. */
function walkAExpr(expr: A_Expr, body: Body, scope: Scope | null, ctx: Ctx, mode: Mode): Lin {
  const op = (expr.name ?? []).map((n) => as<{ sval?: string }>(n, 'String')?.sval);
  const concat = expr.kind === 'AEXPR_OP' && op[op.length - 1] === '||';
  const walk = () => walkChildren(body, scope, ctx, mode);
  return concat ? walk() : computing(ctx, walk);
}

/** Walks every field of a node: the value derives from all of them. */
function walkChildren(body: Body, scope: Scope | null, ctx: Ctx, mode: Mode): Lin {
  const lin = emptyLin();
  for (const value of Object.values(body)) {
    if (value !== null && typeof value === 'object') {
      mergeLin(lin, walkExpr(value, scope, ctx, mode));
    }
  }
  lin.exact = false;
  return lin;
}

/** `(c).pan`: a field of a whole-row reference is that one column. */
function walkIndirection(body: Body, scope: Scope | null, ctx: Ctx, mode: Mode): Lin {
  const ref = as<ColumnRef>(body.arg, 'ColumnRef');
  const first = (body.indirection as Node[] | undefined)?.[0];
  const field = as<{ sval?: string }>(first, 'String')?.sval;
  if (ref?.fields?.length === 1 && field !== undefined) {
    const alias = as<{ sval?: string }>(ref.fields[0], 'String')?.sval;
    const rel = alias === undefined ? undefined : findRel(scope, alias);
    if (rel && !rel.columns?.some((c) => c.name === alias)) {
      const lin = findCol(rel, field) ?? unknownLin();
      ctx.out.use(lin, mode);
      if (ctx.computing) ctx.out.compute(lin);
      return lin;
    }
  }
  const lin = walkExpr(body.arg, scope, ctx, mode);
  // Subscripts (`a[i]`) compute on their index values.
  mergeLin(
    lin,
    computing(ctx, () => walkExpr(body.indirection, scope, ctx, mode)),
  );
  return lin;
}

/**
 * Walks an expression: returns the lineage of its value and records the columns it uses (as read
 * or filtered, per `mode`) and the functions it calls.
 */
export function walkExpr(node: unknown, scope: Scope | null, ctx: Ctx, mode: Mode): Lin {
  if (node === null || typeof node !== 'object') return emptyLin();
  if (Array.isArray(node)) {
    const lin = emptyLin();
    for (const item of node) mergeLin(lin, walkExpr(item, scope, ctx, mode));
    return lin;
  }
  const entry = unwrap(node);
  if (!entry) {
    // A plain struct such as a WindowDef or a CaseWhen's fields: walk what it holds.
    const lin = emptyLin();
    for (const value of Object.values(node)) {
      if (value !== null && typeof value === 'object') {
        mergeLin(lin, walkExpr(value, scope, ctx, mode));
      }
    }
    return lin;
  }
  const [type, body] = entry;
  if (LEAVES.has(type)) return emptyLin();
  switch (type) {
    case 'ColumnRef': {
      const lin = resolveColumnRef((body as ColumnRef).fields ?? [], scope);
      ctx.out.use(lin, mode);
      if (ctx.computing) ctx.out.compute(lin);
      return lin;
    }
    case 'FuncCall':
      return walkFuncCall(body as FuncCall, scope, ctx, mode);
    case 'SubLink':
      return walkSubLink(body as SubLink, scope, ctx, mode);
    case 'CollateClause':
      // COLLATE changes comparison rules, not the value: a plain reference stays plain.
      return walkExpr(body.arg, scope, ctx, mode);
    case 'A_Indirection':
      return walkIndirection(body, scope, ctx, mode);
    case 'CaseExpr':
      return walkCase(body as CaseExpr, scope, ctx, mode);
    case 'TypeCast':
      return walkTypeCast(body as TypeCast, scope, ctx, mode);
    case 'A_Expr':
      return walkAExpr(body as A_Expr, body, scope, ctx, mode);
    // Containers of values: rows, arrays, COALESCE (which only tests for NULL).
    case 'RowExpr':
    case 'A_ArrayExpr':
    case 'CoalesceExpr':
    case 'NamedArgExpr':
    case 'List':
      return walkChildren(body, scope, ctx, mode);
    default:
      return computing(ctx, () => walkChildren(body, scope, ctx, mode));
  }
}
