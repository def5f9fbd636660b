/**
 * INSERT, UPDATE, DELETE and MERGE: the target table's operations, the columns written and
 * filtered on, whether data is copied from other tables, and RETURNING lineage. A RETURNING
 * column of a written column derives from both the table column and the value written to it.
 */
import type {
  DeleteStmt,
  InsertStmt,
  MergeStmt,
  MergeWhenClause,
  MultiAssignRef,
  Node,
  OnConflictClause,
  ResTarget,
  ReturningClause,
  UpdateStmt,
} from 'libpg-query';
import type { TableOperation } from './types.js';
import { choosesRows, walkExpr } from './expr.js';
import { fromItem, rangeVarRel } from './from.js';
import { as } from './nodes.js';
import { addCtes, analyseQuery, newScope, targets } from './query.js';
import { Collector, type Col, type Ctx, type Lin, type Rel, type Scope } from './scope.js';

/** What a DML statement contributes beyond the collector. */
export interface DmlResult {
  outputs: Col[];
  /** The statement has a WHERE clause. */
  where: boolean;
  /** Rows are copied from other tables into the target (INSERT ... SELECT, MERGE). */
  copiesData: boolean;
}

function written(rel: Rel, column: string, ctx: Ctx): void {
  if (rel.table) ctx.out.written.add(`${rel.table}.${column}`);
}

/**
 * RETURNING. PostgreSQL 18 adds `old` and `new` for the target row; they sit one level out so an
 * unqualified name still resolves to the target alone.
 */
function returning(clause: ReturningClause | undefined, scope: Scope, rel: Rel, ctx: Ctx): Col[] {
  if (!clause?.exprs) return [];
  const rows: Scope = {
    parent: scope.parent,
    rels: [
      { ...rel, alias: 'old', overlay: undefined },
      { ...rel, alias: 'new' },
    ],
    from: [],
    ctes: scope.ctes,
  };
  return targets(clause.exprs, { ...scope, parent: rows }, ctx, 'read');
}

/** SET list of UPDATE, ON CONFLICT DO UPDATE and MERGE ... UPDATE: written columns and values. */
function setList(list: Node[] | undefined, scope: Scope, rel: Rel, ctx: Ctx): Map<string, Lin> {
  const values = new Map<string, Lin>();
  const multi = new Map<unknown, Lin>();
  for (const item of list ?? []) {
    const rt = as<ResTarget>(item, 'ResTarget');
    if (!rt?.name) continue;
    const ref = as<MultiAssignRef>(rt.val, 'MultiAssignRef');
    let lin: Lin;
    if (ref) {
      // SET (a, b) = (SELECT ...): the source is shared by every column of the group.
      lin = multi.get(ref.source) ?? walkExpr(ref.source, scope, ctx, 'read');
      multi.set(ref.source, lin);
    } else {
      lin = walkExpr(rt.val, scope, ctx, 'read');
    }
    values.set(rt.name, lin);
    written(rel, rt.name, ctx);
  }
  return values;
}

/** Runs `fn` with a separate collector and reports whether it read any table. */
function readsTables(ctx: Ctx, fn: (sub: Ctx) => void): boolean {
  const sub: Ctx = { ...ctx, out: new Collector() };
  fn(sub);
  ctx.out.absorb(sub.out);
  return [...sub.out.tables.values()].some((t) => t.operations.includes('read'));
}

/**
 * Whether a write copies rows from tables. A nested one (a writing CTE) tells the enclosing
 * statement through the collector, so `WITH w AS (INSERT ... SELECT ...) SELECT ...` copies too.
 */
function copies(ctx: Ctx, copiesData: boolean): boolean {
  ctx.out.copies ||= copiesData;
  return copiesData;
}

function onConflict(clause: OnConflictClause, scope: Scope, rel: Rel, ctx: Ctx): void {
  walkExpr(clause.infer, scope, ctx, 'filter');
  if (clause.action !== 'ONCONFLICT_UPDATE' || !rel.schema || !rel.table) return;
  ctx.out.addTable(rel.schema, rel.table.slice(rel.schema.length + 1), 'update');
  const excluded: Rel = { ...rel, alias: 'excluded' };
  scope.rels.push({ ...rel, overlay: undefined }, excluded);
  setList(clause.targetList, scope, rel, ctx);
  walkExpr(clause.whereClause, scope, ctx, 'filter');
  scope.rels.length = 0;
}

/** INSERT: the source rows (VALUES or a query) flow into the written columns. */
export function analyseInsert(s: InsertStmt, parent: Scope | null, ctx: Ctx): DmlResult {
  const scope = newScope(parent);
  // What the CTEs read flows into the written rows as much as what the query reads.
  const fromCtes = readsTables(ctx, (sub) => addCtes(s.withClause, scope, sub, 'read'));
  const rel = rangeVarRel(s.relation ?? {}, scope, ctx, 'insert');
  const listed = (s.cols ?? []).map((c) => as<ResTarget>(c, 'ResTarget')?.name ?? '');
  let source: Col[] = [];
  const fromQuery = readsTables(ctx, (sub) => {
    source = analyseQuery(s.selectStmt, scope, sub, 'read');
  });
  const copiesData = fromCtes || fromQuery;
  const names = listed.length > 0 ? listed : (rel.columns ?? []).map((c) => c.name);
  const overlay = new Map<string, Lin>();
  names.forEach((name, i) => {
    if (listed.length === 0 && i >= source.length) return;
    written(rel, name, ctx);
    const value = source[i];
    if (value) overlay.set(name, value.lin);
  });
  rel.overlay = overlay;
  if (s.onConflictClause) onConflict(s.onConflictClause, scope, rel, ctx);
  scope.rels.push(rel);
  scope.from.push({ rel });
  const outputs = returning(s.returningClause, scope, rel, ctx);
  return { outputs, where: false, copiesData: copies(ctx, copiesData) };
}

/** UPDATE: SET values see the old row; RETURNING sees the new one. */
export function analyseUpdate(s: UpdateStmt, parent: Scope | null, ctx: Ctx): DmlResult {
  const scope = newScope(parent);
  const rel = rangeVarRel(s.relation ?? {}, scope, ctx, 'update');
  scope.rels.push(rel);
  scope.from.push({ rel });
  let overlay = new Map<string, Lin>();
  const copiesData = readsTables(ctx, (sub) => {
    addCtes(s.withClause, scope, sub, 'read');
    for (const item of s.fromClause ?? []) scope.from.push(fromItem(item, scope, sub, 'read'));
    overlay = setList(s.targetList, scope, rel, sub);
  });
  const where = walkExpr(s.whereClause, scope, ctx, 'filter');
  rel.overlay = overlay;
  const outputs = returning(s.returningClause, scope, rel, ctx);
  return { outputs, where: choosesRows(where), copiesData: copies(ctx, copiesData) };
}

/** DELETE: RETURNING hands back the deleted rows' values. */
export function analyseDelete(s: DeleteStmt, parent: Scope | null, ctx: Ctx): DmlResult {
  const scope = newScope(parent);
  addCtes(s.withClause, scope, ctx, 'read');
  const rel = rangeVarRel(s.relation ?? {}, scope, ctx, 'delete');
  scope.rels.push(rel);
  scope.from.push({ rel });
  for (const item of s.usingClause ?? []) scope.from.push(fromItem(item, scope, ctx, 'read'));
  const where = walkExpr(s.whereClause, scope, ctx, 'filter');
  const outputs = returning(s.returningClause, scope, rel, ctx);
  return { outputs, where: choosesRows(where), copiesData: false };
}

const MERGE_OPS: Record<string, TableOperation> = {
  CMD_INSERT: 'insert',
  CMD_UPDATE: 'update',
  CMD_DELETE: 'delete',
};

/** MERGE: operations on the target follow its WHEN clauses. */
export function analyseMerge(s: MergeStmt, parent: Scope | null, ctx: Ctx): DmlResult {
  const scope = newScope(parent);
  const rel = rangeVarRel(s.relation ?? {}, scope, ctx, null);
  scope.rels.push(rel);
  scope.from.push({ rel });
  let copiesData = false;
  const overlay = new Map<string, Lin>();
  copiesData = readsTables(ctx, (sub) => {
    addCtes(s.withClause, scope, sub, 'read');
    scope.from.push(fromItem(s.sourceRelation, scope, sub, 'read'));
    walkExpr(s.joinCondition, scope, sub, 'filter');
    for (const item of s.mergeWhenClauses ?? []) {
      const when = as<MergeWhenClause>(item, 'MergeWhenClause');
      if (!when) continue;
      const op = MERGE_OPS[when.commandType ?? ''];
      if (op && rel.schema && rel.table) {
        sub.out.addTable(rel.schema, rel.table.slice(rel.schema.length + 1), op);
      }
      walkExpr(when.condition, scope, sub, 'filter');
      if (when.commandType === 'CMD_UPDATE') {
        for (const [k, v] of setList(when.targetList, scope, rel, sub)) overlay.set(k, v);
      } else if (when.commandType === 'CMD_INSERT') {
        const cols = (when.targetList ?? []).map((t) => as<ResTarget>(t, 'ResTarget')?.name);
        const names = cols.length > 0 ? cols : (rel.columns ?? []).map((c) => c.name);
        (when.values ?? []).forEach((value, i) => {
          const name = names[i];
          const lin = walkExpr(value, scope, sub, 'read');
          if (name) {
            overlay.set(name, lin);
            written(rel, name, sub);
          }
        });
      }
    }
  });
  rel.overlay = overlay;
  const outputs = returning(s.returningClause, scope, rel, ctx);
  return { outputs, where: false, copiesData: copies(ctx, copiesData) };
}
