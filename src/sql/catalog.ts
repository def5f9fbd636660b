/**
 * What the analyser needs to know about one database: its tables and views with their columns in
 * attribute order, view definitions, the default search_path and the schemas of its functions.
 * A snapshot is plain data, loaded once over a dedicated connection and then only read.
 */
import type pg from 'pg';

/** One table, view, materialized view, foreign or partitioned table. */
export interface CatalogRelation {
  oid: number;
  schema: string;
  name: string;
  /**
   * pg_class.relkind: `r` table, `v` view, `m` materialized view, `f` foreign table, `p`
   * partitioned table, `S` sequence.
   */
  kind: string;
  /** Column names in attribute-number order (dropped columns left out). */
  columns: string[];
  /** Attribute numbers, parallel to `columns`. */
  attnums: number[];
  /** `pg_get_viewdef` text for views and materialized views, else null. */
  definition: string | null;
}

/** The catalog of one database, as loaded at one moment. */
export interface CatalogSnapshot {
  database: string;
  /** Default search_path, `$user` resolved, schemas that do not exist left out. */
  searchPath: string[];
  /** Relations keyed by `schema.name` (unquoted names). */
  relations: Map<string, CatalogRelation>;
  /** The same relations keyed by OID. */
  byOid: Map<number, CatalogRelation>;
  /** Function and procedure names to the schemas that define one by that name. */
  functions: Map<string, string[]>;
  /** Schemas that exist. */
  schemas: Set<string>;
  /** When the snapshot was loaded (ms since the epoch). */
  loadedAt: number;
}

/** Plain description of a relation, for {@link buildCatalog}. */
export interface RelationSpec {
  schema: string;
  name: string;
  columns: string[];
  kind?: string;
  oid?: number;
  definition?: string | null;
}

/**
 * Builds a snapshot from plain data: for the CLI and tests that know their schema without a
 * database. OIDs are invented when not given.
 */
export function buildCatalog(spec: {
  database?: string;
  searchPath?: string[];
  relations: RelationSpec[];
  functions?: Record<string, string[]>;
}): CatalogSnapshot {
  const relations = new Map<string, CatalogRelation>();
  const byOid = new Map<number, CatalogRelation>();
  const schemas = new Set<string>(['pg_catalog', ...(spec.searchPath ?? ['public'])]);
  let nextOid = 100_000;
  for (const r of spec.relations) {
    const rel: CatalogRelation = {
      oid: r.oid ?? nextOid++,
      schema: r.schema,
      name: r.name,
      kind: r.kind ?? (r.definition ? 'v' : 'r'),
      columns: [...r.columns],
      attnums: r.columns.map((_, i) => i + 1),
      definition: r.definition ?? null,
    };
    relations.set(`${r.schema}.${r.name}`, rel);
    byOid.set(rel.oid, rel);
    schemas.add(r.schema);
  }
  const functions = new Map(Object.entries(spec.functions ?? {}));
  return {
    database: spec.database ?? '',
    searchPath: spec.searchPath ?? ['public'],
    relations,
    byOid,
    functions,
    schemas,
    loadedAt: Date.now(),
  };
}

const RELATIONS_SQL = `
  SELECT c.oid::int8 AS oid, n.nspname AS schema, c.relname AS name, c.relkind AS kind,
         coalesce(array_agg(a.attname::text ORDER BY a.attnum)
                    FILTER (WHERE a.attnum IS NOT NULL), '{}') AS columns,
         coalesce(array_agg(a.attnum::int4 ORDER BY a.attnum)
                    FILTER (WHERE a.attnum IS NOT NULL), '{}') AS attnums,
         CASE WHEN c.relkind IN ('v', 'm') THEN pg_catalog.pg_get_viewdef(c.oid) END AS definition
    FROM pg_catalog.pg_class c
    JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
    LEFT JOIN pg_catalog.pg_attribute a
      ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
   WHERE c.relkind IN ('r', 'v', 'm', 'f', 'p', 'S')
   GROUP BY c.oid, n.nspname, c.relname, c.relkind`;

const FUNCTIONS_SQL = `
  SELECT p.proname AS name, array_agg(DISTINCT n.nspname::text) AS schemas
    FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
   GROUP BY p.proname`;

const SETTINGS_SQL = `
  SELECT pg_catalog.current_setting('search_path') AS search_path, current_user AS "user",
         (SELECT array_agg(nspname::text) FROM pg_catalog.pg_namespace) AS schemas`;

/** Splits a search_path setting into schema names: unquotes and resolves `$user`. */
export function parseSearchPath(setting: string, user: string): string[] {
  const out: string[] = [];
  for (const part of setting.split(',')) {
    let name = part.trim();
    if (name === '') continue;
    if (name.startsWith('"') && name.endsWith('"')) name = name.slice(1, -1).replace(/""/g, '"');
    else name = name.toLowerCase();
    out.push(name === '$user' ? user : name);
  }
  return out;
}

/** Loads a snapshot over a connected client. Runs three read-only catalog queries. */
export async function loadCatalog(client: pg.Client, database: string): Promise<CatalogSnapshot> {
  const settings = await client.query(SETTINGS_SQL);
  const row = settings.rows[0] as { search_path: string; user: string; schemas: string[] };
  const schemas = new Set(row.schemas);
  const searchPath = parseSearchPath(row.search_path, row.user).filter((s) => schemas.has(s));

  const relations = new Map<string, CatalogRelation>();
  const byOid = new Map<number, CatalogRelation>();
  const rels = await client.query(RELATIONS_SQL);
  for (const r of rels.rows as Array<Record<string, unknown>>) {
    const rel: CatalogRelation = {
      oid: Number(r.oid),
      schema: String(r.schema),
      name: String(r.name),
      kind: String(r.kind),
      columns: r.columns as string[],
      attnums: r.attnums as number[],
      definition: typeof r.definition === 'string' ? r.definition : null,
    };
    relations.set(`${rel.schema}.${rel.name}`, rel);
    byOid.set(rel.oid, rel);
  }

  const functions = new Map<string, string[]>();
  const fns = await client.query(FUNCTIONS_SQL);
  for (const f of fns.rows as Array<{ name: string; schemas: string[] }>) {
    functions.set(f.name, f.schemas);
  }
  return { database, searchPath, relations, byOid, functions, schemas, loadedAt: Date.now() };
}

/** The schemas searched for an unqualified name: pg_catalog first unless the path places it. */
export function effectivePath(searchPath: readonly string[]): string[] {
  return searchPath.includes('pg_catalog') ? [...searchPath] : ['pg_catalog', ...searchPath];
}

/**
 * Resolves an unqualified relation name to its schema, as PostgreSQL would on this search_path.
 * Without a catalog, or when no schema on the path has it, the first schema of the path is used
 * (`public` by default).
 */
export function relationSchema(
  catalog: CatalogSnapshot | undefined,
  searchPath: readonly string[],
  name: string,
): string {
  if (catalog) {
    for (const schema of effectivePath(searchPath)) {
      if (catalog.relations.has(`${schema}.${name}`)) return schema;
    }
    const existing = searchPath.find((s) => catalog.schemas.has(s));
    if (existing) return existing;
  }
  return searchPath[0] ?? 'public';
}

/** Qualifies a function name: unqualified names resolve on the path when the catalog knows them. */
export function functionName(
  catalog: CatalogSnapshot | undefined,
  searchPath: readonly string[],
  parts: string[],
): string {
  if (parts.length !== 1 || !catalog) return parts.join('.');
  const name = parts[0] as string;
  const schemas = catalog.functions.get(name);
  if (schemas) {
    for (const schema of effectivePath(searchPath)) {
      if (schemas.includes(schema)) return `${schema}.${name}`;
    }
  }
  return name;
}

/** `schema.table.column` for a table OID and attribute number, or undefined when unknown. */
export function qualifiedColumn(
  catalog: CatalogSnapshot,
  oid: number,
  attnum: number,
): string | undefined {
  const rel = catalog.byOid.get(oid);
  if (!rel) return undefined;
  const index = rel.attnums.indexOf(attnum);
  if (index < 0) return undefined;
  return `${rel.schema}.${rel.name}.${rel.columns[index] as string}`;
}
