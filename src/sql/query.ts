/**
 * Queries: SELECT with its clauses, set operations, VALUES and WITH. Returns the output columns
 * with their lineage and records what the query reads and filters on.
 */
import type {
  CommonTableExpr,
  DeleteStmt,
  InsertStmt,
  MergeStmt,
  Node,
  ResTarget,
  SelectStmt,
  SortBy,
  UpdateStmt,
  WithClause,
} from 'libpg-query';
import { analyseDelete, analyseInsert, analyseMerge, analyseUpdate } from './dml.js';
import { choosesRows, findCol, relColumns, resolveColumnRef, walkExpr } from './expr.js';
import { figureName } from './names.js';
import { fromItem, lockTables } from './from.js';
import { as, constInt, listItems, strings, unwrap } from './nodes.js';
import {
  cloneLin,
  emptyLin,
  mergeLin,
  type Col,
  type Ctx,
  type FromNode,
  type Lin,
  type Mode,
  type Scope,
} from './scope.js';

/** A new query level under `parent`. */
export function newScope(parent: Scope | null): Scope {
  return { parent, rels: [], from: [], ctes: new Map() };
}

/** Renames the first columns to the given names (`AS t(a, b)`, CTE column lists). */
export function renameCols(cols: Col[], names: string[]): Col[] {
  if (names.length === 0) return cols;
  return cols.map((c, i) => (i < names.length ? { name: names[i] as string, lin: c.lin } : c));
}

/**
 * Analyses a query node that yields rows: SELECT (and VALUES, set operations) or a DML statement
 * with RETURNING. Other nodes yield no columns.
 */
export function analyseQuery(node: unknown, parent: Scope | null, ctx: Ctx, mode: Mode): Col[] {
  const entry = unwrap(node);
  if (!entry) return [];
  const [type, body] = entry;
  switch (type) {
    case 'SelectStmt':
      return analyseSelect(body as SelectStmt, parent, ctx, mode);
    case 'InsertStmt':
      return analyseInsert(body as InsertStmt, parent, ctx).outputs;
    case 'UpdateStmt':
      return analyseUpdate(body as UpdateStmt, parent, ctx).outputs;
    case 'DeleteStmt':
      return analyseDelete(body as DeleteStmt, parent, ctx).outputs;
    case 'MergeStmt':
      return analyseMerge(body as MergeStmt, parent, ctx).outputs;
    default:
      return [];
  }
}

/** Registers the CTEs of a WITH clause in `scope`, in order, each seeing the ones before it. */
export function addCtes(w: WithClause | undefined, scope: Scope, ctx: Ctx, mode: Mode): void {
  for (const item of w?.ctes ?? []) {
    const cte = as<CommonTableExpr>(item, 'CommonTableExpr');
    if (!cte?.ctename) continue;
    const names = strings(cte.aliascolnames);
    const select = as<SelectStmt>(cte.ctequery, 'SelectStmt');
    if (w?.recursive && select && select.op && select.op !== 'SETOP_NONE' && select.larg) {
      // The recursive term refers to the CTE itself: seed it with the non-recursive term, then
      // walk the recursive term twice so lineage that flows around the loop is picked up.
      let cols = renameCols(analyseSelect(select.larg, scope, ctx, mode), names);
      for (let pass = 0; pass < 2; pass++) {
        scope.ctes.set(cte.ctename, cols);
        const right = select.rarg ? analyseSelect(select.rarg, scope, ctx, mode) : [];
        cols = combine(cols, right);
      }
      scope.ctes.set(cte.ctename, cols);
      // UNION without ALL compares each new row with the rows so far.
      if (!select.all) for (const col of cols) ctx.out.compute(col.lin);
      continue;
    }
    scope.ctes.set(cte.ctename, renameCols(analyseQuery(cte.ctequery, scope, ctx, mode), names));
  }
}

/** Columns of a set operation: names from the left, lineage from both sides. */
function combine(left: Col[], right: Col[]): Col[] {
  return left.map((c, i) => {
    const other = right[i];
    if (!other) return c;
    const lin = cloneLin(c.lin);
    const exact = c.lin.exact && other.lin.exact;
    mergeLin(lin, other.lin);
    lin.exact = exact;
    return { name: c.name, lin };
  });
}

/** Lineage of column `name` on one side of a join: the first relation of that side having it. */
function sideLin(node: FromNode, name: string): Lin | null {
  if ('rel' in node) return findCol(node.rel, name);
  return sideLin(node.left, name) ?? sideLin(node.right, name);
}

/** Expands `*` over the FROM tree; a join USING (a) yields `a` once, first, as PostgreSQL does. */
export function expandFrom(node: FromNode): Col[] {
  if ('rel' in node) return relColumns(node.rel);
  const left = expandFrom(node.left);
  const right = expandFrom(node.right);
  if (node.using.length === 0) return [...left, ...right];
  const merged = node.using.map((name) => {
    const lin = emptyLin();
    for (const side of [node.left, node.right]) {
      const found = sideLin(side, name);
      if (found) mergeLin(lin, found);
    }
    return { name, lin };
  });
  const rest = (cols: Col[]) => cols.filter((c) => !node.using.includes(c.name));
  return [...merged, ...rest(left), ...rest(right)];
}

/** Output columns of a target list (SELECT list or RETURNING). */
export function targets(list: Node[] | undefined, scope: Scope, ctx: Ctx, mode: Mode): Col[] {
  const out: Col[] = [];
  for (const item of list ?? []) {
    const rt = as<ResTarget>(item, 'ResTarget');
    if (!rt) continue;
    const ref = as<{ fields?: Node[] }>(rt.val, 'ColumnRef');
    const fields = ref?.fields ?? [];
    if (fields.length > 0 && unwrap(fields[fields.length - 1])?.[0] === 'A_Star') {
      const cols = starColumns(fields, scope);
      for (const c of cols) ctx.out.use(c.lin, mode);
      out.push(...cols);
      continue;
    }
    const lin = walkExpr(rt.val, scope, ctx, mode);
    out.push({ name: rt.name ?? figureName(rt.val), lin });
  }
  return out;
}

function starColumns(fields: Node[], scope: Scope): Col[] {
  if (fields.length === 1) return scope.from.flatMap(expandFrom);
  const lin = resolveColumnRef(fields, scope);
  const alias = as<{ sval?: string }>(fields[fields.length - 2], 'String')?.sval;
  for (let s: Scope | null = scope; s; s = s.parent) {
    const rel = s.rels.find((r) => r.alias === alias);
    if (rel) return relColumns(rel);
  }
  return [{ name: '*', lin }];
}

/**
 * ORDER BY, GROUP BY and DISTINCT ON items may name an output column or give its position;
 * anything else is an expression over the FROM items.
 */
function outputRef(node: unknown, outputs: Col[], scope: Scope, ctx: Ctx): Lin {
  const position = constInt(node);
  if (position !== undefined) {
    const lin = outputs[position - 1]?.lin ?? emptyLin();
    ctx.out.use(lin, 'filter');
    return lin;
  }
  const fields = as<{ fields?: Node[] }>(node, 'ColumnRef')?.fields;
  if (fields?.length === 1) {
    const name = as<{ sval?: string }>(fields[0], 'String')?.sval;
    const out = outputs.find((o) => o.name === name);
    if (out) {
      ctx.out.use(out.lin, 'filter');
      return out.lin;
    }
  }
  return walkExpr(node, scope, ctx, 'filter');
}

function orderBy(list: Node[] | undefined, outputs: Col[], scope: Scope, ctx: Ctx): void {
  for (const item of list ?? []) {
    const sort = as<SortBy>(item, 'SortBy');
    outputRef(sort ? sort.node : item, outputs, scope, ctx);
  }
}

/** Analyses a SELECT (or VALUES, or a set operation) and returns its output columns. */
export function analyseSelect(s: SelectStmt, parent: Scope | null, ctx: Ctx, mode: Mode): Col[] {
  const scope = newScope(parent);
  addCtes(s.withClause, scope, ctx, mode);

  if (s.op && s.op !== 'SETOP_NONE') {
    const left = s.larg ? analyseSelect(s.larg, scope, ctx, mode) : [];
    const right = s.rarg ? analyseSelect(s.rarg, scope, ctx, mode) : [];
    // UNION removes duplicates and INTERSECT and EXCEPT (ALL or not) match rows: each compares
    // the values of both sides, so whether a row survives answers "equal to the other side".
    if (!(s.op === 'SETOP_UNION' && s.all)) {
      for (const col of [...left, ...right]) ctx.out.compute(col.lin);
    }
    const outputs = combine(left, right);
    orderBy(s.sortClause, outputs, scope, ctx);
    walkExpr([s.limitCount, s.limitOffset], scope, ctx, 'read');
    return outputs;
  }

  if (s.valuesLists) {
    const outputs: Col[] = [];
    for (const row of s.valuesLists) {
      listItems(row).forEach((value, i) => {
        const lin = walkExpr(value, scope, ctx, mode);
        const col = outputs[i];
        if (col) mergeLin(col.lin, lin);
        else outputs.push({ name: `column${i + 1}`, lin });
      });
    }
    return outputs;
  }

  for (const item of s.fromClause ?? []) scope.from.push(fromItem(item, scope, ctx, mode));
  const where = walkExpr(s.whereClause, scope, ctx, 'filter');
  if (parent === null) ctx.out.rowFilter = choosesRows(where);
  const outputs = targets(s.targetList, scope, ctx, mode);

  for (const g of s.groupClause ?? []) outputRef(g, outputs, scope, ctx);
  walkExpr(s.havingClause, scope, ctx, 'filter');
  if (s.distinctClause) {
    // Plain DISTINCT is a list holding one empty node; DISTINCT ON lists expressions.
    const on = s.distinctClause.filter((d) => unwrap(d) !== null);
    if (on.length === 0) for (const o of outputs) ctx.out.use(o.lin, 'filter');
    for (const d of on) outputRef(d, outputs, scope, ctx);
  }
  orderBy(s.sortClause, outputs, scope, ctx);
  walkExpr(s.windowClause, scope, ctx, 'read');
  walkExpr([s.limitCount, s.limitOffset], scope, ctx, 'read');
  if (s.lockingClause) lockTables(s.lockingClause, scope, ctx);
  return outputs;
}
