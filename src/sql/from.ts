/**
 * FROM items: tables and views (resolved through the catalog, views analysed recursively so their
 * columns carry lineage to the base tables), CTE references, subqueries, functions and joins.
 */
import type {
  Alias,
  JoinExpr,
  LockingClause,
  Node,
  RangeFunction,
  RangeSubselect,
  RangeTableSample,
  RangeVar,
} from 'libpg-query';
import type { TableOperation } from './types.js';
import { relationSchema, type CatalogRelation, type CatalogSnapshot } from './catalog.js';
import { computing, resolveColumnRef, walkExpr } from './expr.js';
import { figureName } from './names.js';
import { as, listItems, strings, unwrap } from './nodes.js';
import { parseStatements } from './parse.js';
import { analyseQuery, expandFrom, renameCols } from './query.js';
import {
  Collector,
  cloneLin,
  columnLin,
  emptyLin,
  mergeLin,
  type Col,
  type Ctx,
  type FromNode,
  type Lin,
  type Mode,
  type Rel,
  type Scope,
} from './scope.js';

/** Views nested deeper than this are treated as having unknown lineage. */
const MAX_VIEW_DEPTH = 16;

interface ViewAnalysis {
  columns: Col[];
  tables: Collector;
}

/** Per-snapshot memo of analysed views: a snapshot never changes, so neither do its views. */
const viewMemo = new WeakMap<CatalogSnapshot, Map<number, ViewAnalysis>>();

function analyseView(rel: CatalogRelation, ctx: Ctx): ViewAnalysis {
  const catalog = ctx.catalog as CatalogSnapshot;
  let memo = viewMemo.get(catalog);
  if (!memo) {
    memo = new Map();
    viewMemo.set(catalog, memo);
  }
  const cached = memo.get(rel.oid);
  if (cached) return cached;

  const table = `${rel.schema}.${rel.name}`;
  const sub: Ctx = {
    catalog,
    // pg_get_viewdef qualifies names that are not visible on the loading connection's path,
    // so the definition resolves correctly on that same default path.
    searchPath: catalog.searchPath,
    out: new Collector(),
    viewDepth: ctx.viewDepth + 1,
  };
  let outputs: Col[] = [];
  if (sub.viewDepth <= MAX_VIEW_DEPTH && rel.definition) {
    try {
      const [stmt] = parseStatements(rel.definition);
      outputs = analyseQuery(stmt?.node, null, sub, 'read');
    } catch {
      outputs = [];
    }
  }
  const columns = rel.columns.map((name, i) => {
    const lin = outputs[i]?.lin ?? { ...emptyLin(), unknown: true };
    const out: Lin = {
      sources: new Set([`${table}.${name}`, ...lin.sources]),
      wholeRow: new Set(lin.wholeRow),
      exact: lin.exact,
      unknown: lin.unknown,
    };
    return { name, lin: out };
  });
  const analysis = { columns, tables: sub.out };
  memo.set(rel.oid, analysis);
  return analysis;
}

function findCte(scope: Scope | null, name: string): Col[] | undefined {
  for (let s = scope; s; s = s.parent) {
    const cte = s.ctes.get(name);
    if (cte) return cte;
  }
  return undefined;
}

/**
 * Resolves a RangeVar to a relation: a CTE when unqualified and one is visible, else a table or
 * view of the catalog (columns known) or of no catalog (columns unknown). Records `op` on it.
 */
export function rangeVarRel(
  rv: RangeVar,
  scope: Scope | null,
  ctx: Ctx,
  op: TableOperation | null,
): Rel {
  const name = rv.relname ?? '';
  const colNames = strings(rv.alias?.colnames);
  const alias = rv.alias?.aliasname ?? name;
  if (!rv.schemaname && op === 'read') {
    const cte = findCte(scope, name);
    if (cte) return { alias, schema: null, table: null, columns: renameCols(cte, colNames) };
  }
  const schema = rv.schemaname ?? relationSchema(ctx.catalog, ctx.searchPath, name);
  const table = `${schema}.${name}`;
  if (op) ctx.out.addTable(schema, name, op);
  const rel = ctx.catalog?.relations.get(table);
  let columns: Col[] | null = null;
  if (rel && rel.definition !== null && (rel.kind === 'v' || rel.kind === 'm')) {
    const view = analyseView(rel, ctx);
    ctx.out.absorb(view.tables, 'tables');
    columns = view.columns;
  } else if (rel) {
    columns = rel.columns.map((c) => ({ name: c, lin: columnLin(`${table}.${c}`) }));
  }
  if (columns === null && colNames.length > 0) {
    // `cards AS t(a, b)` renames columns the analyser cannot see: `t.a` may be any of them.
    const anyColumn = { ...emptyLin(), unknown: true, wholeRow: new Set([table]) };
    return { alias, schema, table, columns: null, anyColumn };
  }
  return { alias, schema, table, columns: columns && renameCols(columns, colNames) };
}

function aliasOf(alias: Alias | undefined): { name: string | undefined; cols: string[] } {
  return { name: alias?.aliasname, cols: strings(alias?.colnames) };
}

/** A scope that sees the enclosing levels and CTEs but not the FROM items of its own level. */
function detached(scope: Scope): Scope {
  return { parent: scope.parent, rels: [], from: [], ctes: scope.ctes };
}

function functionRel(fn: RangeFunction, scope: Scope, ctx: Ctx, mode: Mode): Rel {
  // Functions in FROM may refer to earlier FROM items even without LATERAL.
  const lin = emptyLin();
  let firstName: string | undefined;
  const defs: string[] = [];
  for (const item of fn.functions ?? []) {
    const [call, coldefs] = listItems(item);
    mergeLin(lin, walkExpr(call, scope, ctx, mode));
    firstName ??= figureName(call);
    for (const def of (coldefs as { List?: { items?: Node[] } } | undefined)?.List?.items ?? []) {
      const colname = as<{ colname?: string }>(def, 'ColumnDef')?.colname;
      if (colname) defs.push(colname);
    }
  }
  for (const def of fn.coldeflist ?? []) {
    const colname = as<{ colname?: string }>(def, 'ColumnDef')?.colname;
    if (colname) defs.push(colname);
  }
  const { name, cols } = aliasOf(fn.alias);
  const names = cols.length > 0 ? cols : defs;
  const alias = name ?? firstName ?? '';
  if (names.length === 0)
    return { alias, schema: null, table: null, columns: null, anyColumn: lin };
  const columns = names.map((n) => ({ name: n, lin: { ...cloneLin(lin), exact: false } }));
  if (fn.ordinality) columns.push({ name: 'ordinality', lin: emptyLin() });
  return { alias, schema: null, table: null, columns };
}

function joinItem(join: JoinExpr, scope: Scope, ctx: Ctx, mode: Mode): FromNode {
  const left = fromItem(join.larg, scope, ctx, mode);
  const right = fromItem(join.rarg, scope, ctx, mode);
  let using = strings(join.usingClause);
  if (join.isNatural) {
    const rightNames = new Set(expandFrom(right).map((c) => c.name));
    using = expandFrom(left)
      .map((c) => c.name)
      .filter((n) => n !== '*' && rightNames.has(n));
  }
  for (const name of using)
    ctx.out.use(resolveColumnRef([{ String: { sval: name } }], scope), 'filter');
  walkExpr(join.quals, scope, ctx, 'filter');
  const node: FromNode = { left, right, using };
  const { name, cols } = aliasOf(join.alias);
  if (name) {
    const rel = {
      alias: name,
      schema: null,
      table: null,
      columns: renameCols(expandFrom(node), cols),
    };
    scope.rels.push(rel);
  }
  return node;
}

/** Column names of XMLTABLE (RangeTableFuncCol) and JSON_TABLE (JsonTableColumn, NESTED too). */
function tableFuncColumns(list: unknown, out: string[]): void {
  for (const item of Array.isArray(list) ? list : []) {
    const xml = as<{ colname?: string }>(item, 'RangeTableFuncCol');
    if (xml?.colname) out.push(xml.colname);
    const json = as<{ name?: string; coltype?: string; columns?: unknown }>(
      item,
      'JsonTableColumn',
    );
    if (json?.coltype === 'JTC_NESTED') tableFuncColumns(json.columns, out);
    else if (json?.name) out.push(json.name);
  }
}

/** Adds one FROM item to `scope` (its relations become visible) and returns it as a tree. */
export function fromItem(node: unknown, scope: Scope, ctx: Ctx, mode: Mode): FromNode {
  const entry = unwrap(node);
  const type = entry?.[0];
  const body = entry?.[1];
  let rel: Rel;
  switch (type) {
    case 'RangeVar':
      rel = rangeVarRel(body as RangeVar, scope, ctx, 'read');
      break;
    case 'JoinExpr':
      return joinItem(body as JoinExpr, scope, ctx, mode);
    case 'RangeTableSample': {
      const sample = body as RangeTableSample;
      const inner = fromItem(sample.relation, scope, ctx, mode);
      walkExpr([sample.args, sample.repeatable], scope, ctx, 'read');
      return inner;
    }
    case 'RangeSubselect': {
      const sub = body as RangeSubselect;
      const cols = analyseQuery(sub.subquery, sub.lateral ? scope : detached(scope), ctx, mode);
      const { name, cols: names } = aliasOf(sub.alias);
      rel = { alias: name ?? '', schema: null, table: null, columns: renameCols(cols, names) };
      break;
    }
    case 'RangeFunction':
      rel = functionRel(body as RangeFunction, scope, ctx, mode);
      break;
    default: {
      // XMLTABLE, JSON_TABLE and the like: every column derives from the document expression,
      // and their paths and filters test the document's values (`? (@ starts with "4111")`):
      // everything that flows into them is computed on.
      const lin = computing(ctx, () => walkExpr(body ?? null, scope, ctx, mode));
      const alias = (body?.alias as Alias | undefined)?.aliasname ?? '';
      const names: string[] = [];
      tableFuncColumns(body?.columns, names);
      const columns = names.map((name) => ({ name, lin: { ...cloneLin(lin), exact: false } }));
      rel =
        names.length > 0
          ? { alias, schema: null, table: null, columns }
          : { alias, schema: null, table: null, columns: null, anyColumn: lin };
    }
  }
  scope.rels.push(rel);
  return { rel };
}

/** FOR UPDATE / FOR SHARE: records `lock` on the named relations, or on all tables read. */
export function lockTables(clauses: Node[], scope: Scope, ctx: Ctx): void {
  for (const clause of clauses) {
    const locking = as<LockingClause>(clause, 'LockingClause');
    const named = (locking?.lockedRels ?? []).map((r) => as<RangeVar>(r, 'RangeVar')?.relname);
    for (const rel of scope.rels) {
      if (!rel.table || !rel.schema) continue;
      if (named.length > 0 && !named.includes(rel.alias)) continue;
      ctx.out.addTable(rel.schema, rel.table.slice(rel.schema.length + 1), 'lock');
    }
  }
}
