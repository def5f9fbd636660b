/**
 * Facts about one SQL statement, derived from PostgreSQL's own parse tree. These become
 * `input.statement` of the policy (see docs/policy-authoring.md); names are snake_case there.
 */

/** What a statement does to one table. */
export type TableOperation =
  | 'read'
  | 'insert'
  | 'update'
  | 'delete'
  | 'truncate'
  | 'create'
  | 'alter'
  | 'drop'
  | 'grant'
  | 'copy_to'
  | 'copy_from'
  | 'lock'
  | 'maintain';

/** One table (or view) a statement touches. */
export interface TableFact {
  schema: string;
  name: string;
  operations: TableOperation[];
}

/** COPY details. `program` is the command of COPY ... PROGRAM. */
export interface CopyFact {
  direction: 'to' | 'from';
  target: 'stdout' | 'stdin' | 'file' | 'program';
  file: string | null;
  program: string | null;
  query: boolean;
}

/**
 * How COPY writes its rows, from the statement's options with PostgreSQL's defaults filled in:
 * what the gateway needs to find the columns of COPY ... TO STDOUT output and mask them.
 * Delimiter, quote and escape are single characters; `null` is the NULL marker.
 */
export interface CopyOptions {
  format: 'text' | 'csv' | 'binary';
  delimiter: string;
  null: string;
  header: boolean;
  quote: string;
  escape: string;
  /** The ENCODING option, or null when the output is in the session's client_encoding. */
  encoding: string | null;
}

/**
 * Where an output column's values come from: the qualified source columns
 * (`schema.table.column`) it derives from, through any expression. `wholeRow` lists tables whose
 * entire row flows into the value (`row_to_json(c)`, `c::text`). `exact` is true when the column
 * is a plain reference to one source column (no expression), so a method like `pan_last4` can
 * apply; otherwise a masked source means the value is redacted.
 */
export interface OutputLineage {
  name: string;
  sources: string[];
  wholeRow: string[];
  exact: boolean;
  /** True when lineage could not be established; the masking layer fails closed on it. */
  unknown: boolean;
}

/** Everything the gateway and the policy know about one statement. */
export interface StatementFacts {
  /** Lower-case statement kind: `select`, `insert`, `copy`, `create_table`, ... (see docs). */
  kind: string;
  /** The command tag PostgreSQL will answer with (`SELECT`, `INSERT`, ...). */
  commandTag: string;
  tables: TableFact[];
  /**
   * `computed`: columns whose values go into a computation other than plain pass-through output
   * (function and operator arguments, casts, conditions, window and aggregate ordering), as
   * `schema.table.column`, a whole row as `schema.table.*`. Text casts, `||`, COALESCE, row and
   * array constructors and a few built-ins that only wrap values (`concat`, `row_to_json`,
   * `json_build_object`, `array_agg`, `string_agg`, `json_agg`, ...) pass values through.
   */
  columns: { read: string[]; written: string[]; filtered: string[]; computed: string[] };
  /** Functions called, schema-qualified where known (`pg_catalog.upper`). */
  functions: string[];
  copy: CopyFact | null;
  /**
   * The output options of COPY ... TO (not part of the policy input: the NULL marker is
   * statement text). Absent for other statements.
   */
  copyOptions?: CopyOptions;
  /**
   * True when the statement has a WHERE clause at its top level that mentions a column of its
   * rows; a constant condition (`WHERE true`, `WHERE 1 = 1`) counts as none.
   */
  where: boolean;
  /** LIMIT as a constant, or null when absent or not constant. */
  limit: number | null;
  /** Output columns in order, with lineage. Empty for statements that return no rows. */
  outputs: OutputLineage[];
  /** Writes that copy data elsewhere (`CREATE TABLE AS`, `SELECT INTO`, `INSERT ... SELECT`). */
  copiesData: boolean;
  /** Statement text with card-number-like literals masked (what policy and audit see). */
  text: string;
  /** Stable fingerprint of the statement's normalized form (constants removed). */
  fingerprint: string;
  /**
   * The cursor or prepared statement a statement names (DECLARE, FETCH, MOVE, CLOSE, PREPARE,
   * EXECUTE, DEALLOCATE), or the setting of SET, RESET and SHOW (`search_path`, `role`). The
   * outputs of DECLARE and PREPARE describe the rows a later FETCH or EXECUTE returns; FETCH and
   * EXECUTE themselves report one unknown output.
   */
  handle?: string;
}

/** Where a statement is analysed: the catalog of this database resolves stars, views and names. */
export interface AnalyzeContext {
  database: string;
  /** The session's search_path, when known (defaults to the catalog's). */
  searchPath?: string[];
}

/**
 * Turns a query string into facts, one per statement. Rejects with a PgwardenError
 * (`ERR_SQL_PARSE`, carrying PostgreSQL's parser message) when the text cannot be parsed, and
 * `ERR_SQL_UNCLASSIFIED` when a statement's kind is unknown: the gateway denies both.
 */
export interface StatementAnalyzer {
  analyze(text: string, context: AnalyzeContext): Promise<StatementFacts[]>;
  /**
   * Optional: drops what the analyzer knows of `database`'s catalog. The gateway calls it after
   * DDL ran (its transaction committed), so the next statement sees the new tables and columns.
   */
  invalidate?(database: string): void;
}
