/**
 * One statement, top level: dispatches on the node type and returns what is not in the collector
 * (kind, tag, outputs, COPY details, WHERE and LIMIT at top level, whether data is copied).
 */
import type {
  CallStmt,
  CopyStmt,
  CreateTableAsStmt,
  DeclareCursorStmt,
  DefElem,
  ExplainStmt,
  Node,
  PrepareStmt,
  SelectStmt,
  ViewStmt,
} from 'libpg-query';
import type { CopyFact, CopyOptions } from './types.js';
import { PgwardenError } from '../errors.js';
import { relColumns, walkExpr } from './expr.js';
import { rangeVarRel } from './from.js';
import { as, constInt, str, strings, unwrap, type Body } from './nodes.js';
import {
  analyseDelete,
  analyseInsert,
  analyseMerge,
  analyseUpdate,
  type DmlResult,
} from './dml.js';
import { analyseQuery, analyseSelect, newScope } from './query.js';
import { Collector, emptyLin, mergeLin, type Col, type Ctx } from './scope.js';
import { analyseDoBlock } from './plpgsql.js';
import { classifyUtility, utilityTables } from './utility.js';

/** What the dispatcher returns besides the collector's tables, columns and functions. */
export interface StatementCore {
  kind: string;
  commandTag: string;
  outputs: Col[];
  copy: CopyFact | null;
  copyOptions?: CopyOptions;
  where: boolean;
  limit: number | null;
  copiesData: boolean;
  /** Cursor or prepared-statement name (DECLARE, FETCH, MOVE, CLOSE, PREPARE, EXECUTE, ...). */
  handle?: string;
}

function core(kind: string, commandTag: string, extra: Partial<StatementCore> = {}): StatementCore {
  return {
    kind,
    commandTag,
    outputs: [],
    copy: null,
    where: false,
    limit: null,
    copiesData: false,
    ...extra,
  };
}

/** What DECLARE and PREPARE take over from the statement they wrap (decided now, run later). */
function innerFacts(inner: StatementCore): Partial<StatementCore> {
  const { outputs, where, limit, copiesData } = inner;
  return { outputs, where, limit, copiesData };
}

/** One output whose lineage cannot be known here (rows of a cursor or prepared statement). */
function unknownOutputs(): Col[] {
  return [{ name: '*', lin: { ...emptyLin(), unknown: true } }];
}

function topLimit(s: SelectStmt): number | null {
  // LIMIT ALL is a NULL constant and LIMIT $1 a parameter: neither is a known number.
  return constInt(s.limitCount) ?? null;
}

function select(s: SelectStmt, ctx: Ctx): StatementCore {
  const outputs = analyseSelect(s, null, ctx, 'read');
  const facts = {
    where: s.whereClause !== undefined && ctx.out.rowFilter,
    limit: topLimit(s),
  };
  if (s.intoClause) {
    // SELECT ... INTO creates a table from the rows: PostgreSQL runs it as CREATE TABLE AS.
    rangeVarRel(s.intoClause.rel ?? {}, null, ctx, 'create');
    return core('create_table_as', 'SELECT', { ...facts, copiesData: true });
  }
  return core('select', 'SELECT', { ...facts, outputs });
}

function dml(kind: string, tag: string, result: DmlResult): StatementCore {
  return core(kind, tag, {
    outputs: result.outputs,
    where: result.where,
    copiesData: result.copiesData,
  });
}

function copy(s: CopyStmt, ctx: Ctx): StatementCore {
  const direction = s.is_from ? 'from' : 'to';
  const target = s.is_program
    ? 'program'
    : s.filename !== undefined
      ? 'file'
      : s.is_from
        ? 'stdin'
        : 'stdout';
  const fact: CopyFact = {
    direction,
    target,
    file: target === 'file' ? (s.filename ?? null) : null,
    program: target === 'program' ? (s.filename ?? null) : null,
    query: s.query !== undefined,
  };
  let outputs: Col[] = [];
  if (s.query) {
    outputs = analyseQuery(s.query, null, ctx, 'read');
  } else if (s.relation) {
    const rel = rangeVarRel(s.relation, null, ctx, s.is_from ? 'copy_from' : 'copy_to');
    const listed = strings(s.attlist);
    const names = listed.length > 0 ? listed : (rel.columns ?? []).map((c) => c.name);
    const scope = newScope(null);
    scope.rels.push(rel);
    scope.from.push({ rel });
    if (s.is_from) {
      for (const name of names) if (rel.table) ctx.out.written.add(`${rel.table}.${name}`);
      walkExpr(s.whereClause, scope, ctx, 'filter');
    } else if (names.length > 0) {
      outputs = names.map((name) => {
        const lin = walkExpr(
          { ColumnRef: { fields: [{ String: { sval: name } }] } },
          scope,
          ctx,
          'read',
        );
        return { name, lin };
      });
    } else {
      // No catalog: the whole row is copied, columns unknown.
      outputs = relColumns(rel);
      for (const o of outputs) ctx.out.use(o.lin, 'read');
    }
  }
  const copiesData = !s.is_from && (target === 'file' || target === 'program');
  return core('copy', 'COPY', {
    copy: fact,
    outputs: s.is_from ? [] : outputs,
    copiesData,
    ...(s.is_from ? {} : { copyOptions: copyOptions(s.options) }),
  });
}

/**
 * COPY's output options as PostgreSQL reads them (ProcessCopyOptions): the old syntax
 * (`CSV HEADER`, `DELIMITER ';'`) reaches here as the same options as `WITH (...)`. Options
 * PostgreSQL would reject make the statement fail upstream before any row is sent.
 */
function copyOptions(options: Node[] | undefined): CopyOptions {
  const given = new Map<string, DefElem>();
  for (const o of options ?? []) {
    const def = as<DefElem>(o, 'DefElem');
    if (def?.defname) given.set(def.defname, def);
  }
  const text = (name: string): string | undefined => {
    const arg = given.get(name)?.arg;
    return arg === undefined ? undefined : str(arg);
  };
  const format = (text('format') ?? 'text').toLowerCase();
  const csv = format === 'csv';
  const quote = text('quote') ?? '"';
  return {
    format: csv ? 'csv' : format === 'binary' ? 'binary' : 'text',
    delimiter: text('delimiter') ?? (csv ? ',' : '\t'),
    null: text('null') ?? (csv ? '' : '\\N'),
    header: given.has('header') && headerOn(given.get('header')!),
    quote,
    escape: text('escape') ?? quote,
    encoding: text('encoding') ?? null,
  };
}

/** HEADER as PostgreSQL reads it: no value, 1, true or on (any case) turn it on. */
function headerOn(def: DefElem): boolean {
  if (def.arg === undefined) return true;
  const int = as<{ ival?: number }>(def.arg, 'Integer');
  if (int) return int.ival === 1;
  const bool = as<{ boolval?: boolean }>(def.arg, 'Boolean');
  if (bool) return bool.boolval === true;
  return ['true', 'on'].includes((str(def.arg) ?? '').toLowerCase());
}

function optionOn(options: Node[] | undefined, name: string): boolean {
  for (const o of options ?? []) {
    const def = as<DefElem>(o, 'DefElem');
    if (def?.defname !== name) continue;
    if (def.arg === undefined) return true;
    const text = str(def.arg) ?? as<{ boolval?: boolean }>(def.arg, 'Boolean')?.boolval;
    return text === true || ['true', 'on', '1', 'yes'].includes(String(text).toLowerCase());
  }
  return false;
}

function explain(s: ExplainStmt, ctx: Ctx): StatementCore {
  const sub: Ctx = { ...ctx, out: new Collector() };
  const inner = analyseStatement(s.query ?? {}, sub);
  // Without ANALYZE nothing runs: the inner statement's writes are only planned.
  ctx.out.absorb(sub.out, optionOn(s.options, 'analyze') ? 'all' : 'reads');
  const plan = emptyLin();
  for (const o of inner.outputs) mergeLin(plan, o.lin);
  return core('explain', 'EXPLAIN', {
    outputs: [{ name: 'QUERY PLAN', lin: plan }],
    where: inner.where,
    limit: inner.limit,
  });
}

function createTableAs(s: CreateTableAsStmt, ctx: Ctx): StatementCore {
  analyseQuery(s.query, null, ctx, 'read');
  rangeVarRel(s.into?.rel ?? {}, null, ctx, 'create');
  const kind = s.objtype === 'OBJECT_MATVIEW' ? 'create_materialized_view' : 'create_table_as';
  return core(kind, 'SELECT', { copiesData: s.into?.skipData !== true });
}

/** Utility statements: classification table plus the tables they act on. */
function utility(type: string, body: Body, ctx: Ctx): StatementCore {
  const classified = classifyUtility(type, body);
  if (!classified) {
    throw new PgwardenError('ERR_SQL_UNCLASSIFIED', `statement type ${type} is not classified`);
  }
  utilityTables(type, body, ctx);
  const result = core(classified.kind, classified.commandTag);
  // SET, RESET and SHOW name their setting (`search_path`, `role`, `session_authorization`).
  if (type === 'VariableSetStmt' || type === 'VariableShowStmt') {
    if (typeof body.name === 'string') result.handle = body.name.toLowerCase();
  }
  if (type === 'ViewStmt') analyseQuery((body as ViewStmt).query, null, ctx, 'read');
  if (type === 'VariableShowStmt') {
    const name = String(body.name ?? '').toLowerCase();
    result.outputs =
      name === 'all'
        ? ['name', 'setting', 'description'].map((n) => ({ name: n, lin: emptyLin() }))
        : [{ name, lin: emptyLin() }];
  }
  return result;
}

/**
 * Analyses one statement node, recording tables, columns and functions in `ctx.out`. Throws
 * `ERR_SQL_UNCLASSIFIED` for a node type it does not know.
 */
export function analyseStatement(node: unknown, ctx: Ctx): StatementCore {
  const entry = unwrap(node);
  if (!entry) throw new PgwardenError('ERR_SQL_UNCLASSIFIED', 'empty statement node');
  const [type, body] = entry;
  switch (type) {
    case 'SelectStmt':
      return select(body as SelectStmt, ctx);
    case 'InsertStmt':
      return dml('insert', 'INSERT', analyseInsert(body, null, ctx));
    case 'UpdateStmt':
      return dml('update', 'UPDATE', analyseUpdate(body, null, ctx));
    case 'DeleteStmt':
      return dml('delete', 'DELETE', analyseDelete(body, null, ctx));
    case 'MergeStmt':
      return dml('merge', 'MERGE', analyseMerge(body, null, ctx));
    case 'CopyStmt':
      return copy(body as CopyStmt, ctx);
    case 'ExplainStmt':
      return explain(body as ExplainStmt, ctx);
    case 'CreateTableAsStmt':
      return createTableAs(body as CreateTableAsStmt, ctx);
    case 'DeclareCursorStmt': {
      // The cursor's query is decided here, so its facts are the statement's facts.
      const s = body as DeclareCursorStmt;
      const inner = analyseStatement(s.query ?? {}, ctx);
      return core('declare', 'DECLARE CURSOR', { ...innerFacts(inner), handle: s.portalname });
    }
    case 'FetchStmt': {
      const move = body.ismove === true;
      return core(move ? 'move' : 'fetch', move ? 'MOVE' : 'FETCH', {
        outputs: move ? [] : unknownOutputs(),
        handle: body.portalname as string | undefined,
      });
    }
    case 'ClosePortalStmt':
      return body.portalname === undefined
        ? core('close', 'CLOSE CURSOR ALL')
        : core('close', 'CLOSE CURSOR', { handle: body.portalname as string });
    case 'PrepareStmt': {
      const s = body as PrepareStmt;
      const inner = analyseStatement(s.query ?? {}, ctx);
      return core('prepare', 'PREPARE', { ...innerFacts(inner), handle: s.name });
    }
    case 'ExecuteStmt':
      walkExpr(body.params, null, ctx, 'read');
      return core('execute', 'EXECUTE', {
        outputs: unknownOutputs(),
        handle: body.name as string | undefined,
      });
    case 'DeallocateStmt':
      return body.isall || body.name === undefined
        ? core('deallocate', 'DEALLOCATE ALL')
        : core('deallocate', 'DEALLOCATE', { handle: body.name as string });
    case 'DoStmt':
      analyseDoBlock(body.args as Node[] | undefined, ctx, analyseStatement);
      return core('do', 'DO');
    case 'CallStmt':
      walkExpr(
        (body as CallStmt).funccall ? { FuncCall: (body as CallStmt).funccall } : null,
        null,
        ctx,
        'read',
      );
      // OUT and INOUT parameters come back as one row whose columns are not known here.
      return core('call', 'CALL', { outputs: unknownOutputs() });
    default:
      return utility(type, body, ctx);
  }
}
