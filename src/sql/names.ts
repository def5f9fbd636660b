/**
 * Output column names for expressions without an alias, following PostgreSQL's FigureColname:
 * the name a client sees in RowDescription, so outputs can be matched to fields by name too.
 */
import { as, unwrap, type Body } from './nodes.js';

const SQL_VALUE_NAMES: Record<string, string> = {
  SVFOP_CURRENT_DATE: 'current_date',
  SVFOP_CURRENT_TIME: 'current_time',
  SVFOP_CURRENT_TIME_N: 'current_time',
  SVFOP_CURRENT_TIMESTAMP: 'current_timestamp',
  SVFOP_CURRENT_TIMESTAMP_N: 'current_timestamp',
  SVFOP_LOCALTIME: 'localtime',
  SVFOP_LOCALTIME_N: 'localtime',
  SVFOP_LOCALTIMESTAMP: 'localtimestamp',
  SVFOP_LOCALTIMESTAMP_N: 'localtimestamp',
  SVFOP_CURRENT_ROLE: 'current_role',
  SVFOP_CURRENT_USER: 'current_user',
  SVFOP_USER: 'user',
  SVFOP_SESSION_USER: 'session_user',
  SVFOP_CURRENT_CATALOG: 'current_catalog',
  SVFOP_CURRENT_SCHEMA: 'current_schema',
};

function lastString(list: unknown): string | undefined {
  if (!Array.isArray(list)) return undefined;
  for (let i = list.length - 1; i >= 0; i--) {
    const s = as<{ sval?: string }>(list[i], 'String');
    if (s) return s.sval ?? '';
    if (unwrap(list[i])?.[0] === 'A_Star') return undefined;
  }
  return undefined;
}

function figure(node: unknown): string | undefined {
  const entry = unwrap(node);
  if (!entry) return undefined;
  const [type, body] = entry;
  switch (type) {
    case 'ColumnRef':
      return lastString(body.fields);
    case 'A_Indirection':
      return lastString(body.indirection) ?? figure(body.arg);
    case 'FuncCall':
      return lastString(body.funcname);
    case 'A_Expr':
      return body.kind === 'AEXPR_NULLIF' ? 'nullif' : undefined;
    case 'TypeCast':
      return figure(body.arg) ?? lastString((body.typeName as Body | undefined)?.names);
    case 'CollateClause':
      return figure(body.arg);
    case 'CaseExpr':
      return 'case';
    case 'CoalesceExpr':
      return 'coalesce';
    case 'MinMaxExpr':
      return body.op === 'IS_GREATEST' ? 'greatest' : 'least';
    case 'A_ArrayExpr':
      return 'array';
    case 'RowExpr':
      return 'row';
    case 'GroupingFunc':
      return 'grouping';
    case 'SQLValueFunction':
      return SQL_VALUE_NAMES[String(body.op)];
    case 'SubLink':
      if (body.subLinkType === 'EXISTS_SUBLINK') return 'exists';
      if (body.subLinkType === 'ARRAY_SUBLINK') return 'array';
      if (body.subLinkType === 'EXPR_SUBLINK') {
        const select = as<{ targetList?: unknown[] }>(body.subselect, 'SelectStmt');
        const first = as<{ name?: string; val?: unknown }>(select?.targetList?.[0], 'ResTarget');
        return first ? (first.name ?? figure(first.val)) : undefined;
      }
      return undefined;
    default:
      return undefined;
  }
}

/** The column name PostgreSQL gives an unaliased output expression (`?column?` when none). */
export function figureName(node: unknown): string {
  return figure(node) ?? '?column?';
}
