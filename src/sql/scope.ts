/**
 * The analyser's working state: lineage values, the relations visible at each query level, and
 * the collector that accumulates a statement's tables, columns and functions as the walk goes.
 */
import type { OutputLineage, TableFact, TableOperation } from './types.js';
import type { CatalogSnapshot } from './catalog.js';

/** Lineage of one value while walking: mutable sets, turned into OutputLineage at the end. */
export interface Lin {
  sources: Set<string>;
  wholeRow: Set<string>;
  /** A plain reference to a column, passed through unchanged. */
  exact: boolean;
  unknown: boolean;
}

/** A named column of a relation in scope, with where its values come from. */
export interface Col {
  name: string;
  lin: Lin;
}

/** A relation visible in a FROM clause: a table, view, CTE, subquery or function. */
export interface Rel {
  /** The name the query uses for it: its alias, or the relation name. */
  alias: string;
  /** Schema of a table or view, for `schema.table.column` references. */
  schema: string | null;
  /** `schema.name` of a table or view; null for derived relations. */
  table: string | null;
  /** Columns in order, or null when not known (no catalog). */
  columns: Col[] | null;
  /** For relations whose every column derives from the same inputs (set-returning functions). */
  anyColumn?: Lin;
  /** Extra lineage merged into named columns (values written by INSERT/UPDATE, for RETURNING). */
  overlay?: Map<string, Lin>;
}

/** A FROM item as a tree, so `*` over a join with USING expands as PostgreSQL does. */
export type FromNode = { rel: Rel } | { left: FromNode; right: FromNode; using: string[] };

/** One query level: its relations, FROM tree, CTEs, and the enclosing level. */
export interface Scope {
  parent: Scope | null;
  rels: Rel[];
  from: FromNode[];
  ctes: Map<string, Col[]>;
}

/** How a column reference is used: values read, or used to choose rows (WHERE, JOIN, ...). */
export type Mode = 'read' | 'filter';

/** A new empty lineage. */
export function emptyLin(): Lin {
  return { sources: new Set(), wholeRow: new Set(), exact: false, unknown: false };
}

/** A lineage of one column, passed through unchanged. */
export function columnLin(qualified: string): Lin {
  return { sources: new Set([qualified]), wholeRow: new Set(), exact: true, unknown: false };
}

/** A copy of `lin`. */
export function cloneLin(lin: Lin): Lin {
  return {
    sources: new Set(lin.sources),
    wholeRow: new Set(lin.wholeRow),
    exact: lin.exact,
    unknown: lin.unknown,
  };
}

/** Adds `from` to `into`; the result is no longer a plain reference. */
export function mergeLin(into: Lin, from: Lin): Lin {
  for (const s of from.sources) into.sources.add(s);
  for (const w of from.wholeRow) into.wholeRow.add(w);
  into.unknown ||= from.unknown;
  into.exact = false;
  return into;
}

/** The union of several lineages; exact only when there is one and it is exact. */
export function unionLin(lins: Lin[]): Lin {
  if (lins.length === 1) return cloneLin(lins[0] as Lin);
  const out = emptyLin();
  for (const l of lins) mergeLin(out, l);
  return out;
}

/** Turns a working lineage into the public shape (sorted, for stable output). */
export function toOutput(col: Col): OutputLineage {
  return {
    name: col.name,
    sources: [...col.lin.sources].sort(),
    wholeRow: [...col.lin.wholeRow].sort(),
    exact: col.lin.exact && !col.lin.unknown,
    unknown: col.lin.unknown,
  };
}

/** Accumulates what one statement touches. */
export class Collector {
  readonly tables = new Map<string, TableFact>();
  readonly read = new Set<string>();
  readonly written = new Set<string>();
  readonly filtered = new Set<string>();
  readonly functions = new Set<string>();
  /**
   * Columns whose values go into a computation other than plain pass-through output (function
   * and operator arguments, casts, conditions): a computation can fail, or act, on the value.
   */
  readonly computed = new Set<string>();
  /** A nested write (a writing CTE, INSERT ... SELECT inside one) copies rows from tables. */
  copies = false;
  /** The top-level SELECT's WHERE clause mentions a column of its rows (see `choosesRows`). */
  rowFilter = false;

  /** Records an operation on a table or view. */
  addTable(schema: string, name: string, op: TableOperation): void {
    const key = `${schema}.${name}`;
    let fact = this.tables.get(key);
    if (!fact) {
      fact = { schema, name, operations: [] };
      this.tables.set(key, fact);
    }
    if (!fact.operations.includes(op)) fact.operations.push(op);
  }

  /**
   * Records the columns a value derives from, as read or as filtered on. A whole row counts as
   * `schema.table.*`, so a policy sees it even when the table's columns are not known.
   */
  use(lin: Lin, mode: Mode): void {
    const into = mode === 'read' ? this.read : this.filtered;
    for (const s of lin.sources) into.add(s);
    for (const t of lin.wholeRow) into.add(`${t}.*`);
  }

  /** Records the columns a value derives from as computed on (whole rows as `schema.table.*`). */
  compute(lin: Lin): void {
    for (const s of lin.sources) this.computed.add(s);
    for (const t of lin.wholeRow) this.computed.add(`${t}.*`);
  }

  /**
   * Copies another collector's findings into this one: `all` as they are, `reads` with every
   * table operation turned into a read (a plan that does not run), `tables` only the tables, as
   * reads (a view's definition: its columns count only when the outer query uses them).
   */
  absorb(other: Collector, how: 'all' | 'reads' | 'tables' = 'all'): void {
    for (const t of other.tables.values()) {
      for (const op of how === 'all' ? t.operations : (['read'] as const)) {
        this.addTable(t.schema, t.name, op);
      }
    }
    if (how === 'tables') return;
    for (const c of other.read) this.read.add(c);
    for (const c of other.filtered) this.filtered.add(c);
    for (const c of other.computed) this.computed.add(c);
    if (how === 'all') for (const c of other.written) this.written.add(c);
    if (how === 'all') this.copies ||= other.copies;
    for (const f of other.functions) this.functions.add(f);
  }
}

/** Everything the walk of one statement shares. */
export interface Ctx {
  catalog: CatalogSnapshot | undefined;
  searchPath: string[];
  out: Collector;
  /** Nesting depth of view expansion, to stop on views defined over themselves. */
  viewDepth: number;
  /**
   * True while walking inside a computation (a function or operator argument, a cast, a
   * condition): column references met there are recorded as computed on.
   */
  computing?: boolean;
}
