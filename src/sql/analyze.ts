/**
 * The synchronous core: statement text in, facts out, with results cached by exact text so a
 * repeated statement costs one map lookup. Usable without a database (`pgwarden analyze`).
 */
import type { StatementFacts } from './types.js';
import { PgwardenError } from '../errors.js';
import { maskCardNumbers } from '../masking/detect.js';
import type { CatalogSnapshot } from './catalog.js';
import { LruCache } from './lru.js';
import { parseStatements, statementFingerprint, type ParsedStatement } from './parse.js';
import { Collector, toOutput, type Ctx } from './scope.js';
import { analyseStatement } from './statements.js';

/** Entries kept per cache: parse trees by text, and facts by text per catalog snapshot. */
export const CACHE_SIZE = 10_000;

const parseCache = new LruCache<string, ParsedStatement[]>(CACHE_SIZE);
const noCatalog = new LruCache<string, readonly StatementFacts[]>(CACHE_SIZE);
let byCatalog = new WeakMap<CatalogSnapshot, LruCache<string, readonly StatementFacts[]>>();

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

function parseCached(text: string): ParsedStatement[] {
  let parsed = parseCache.get(text);
  if (!parsed) {
    parsed = parseStatements(text);
    parseCache.set(text, parsed);
  }
  return parsed;
}

/**
 * Card numbers can hide in identifiers too (`SELECT 1 AS "4111..."`, a COPY file name): every
 * name in the facts is scrubbed like the text, so policy input and audit never hold one.
 */
function scrubNames(f: StatementFacts): void {
  const m = maskCardNumbers;
  f.tables = f.tables.map((t) => ({ ...t, schema: m(t.schema), name: m(t.name) }));
  f.columns = {
    read: f.columns.read.map(m),
    written: f.columns.written.map(m),
    filtered: f.columns.filtered.map(m),
    computed: f.columns.computed.map(m),
  };
  f.functions = f.functions.map(m);
  f.outputs = f.outputs.map((o) => ({
    ...o,
    name: m(o.name),
    sources: o.sources.map(m),
    wholeRow: o.wholeRow.map(m),
  }));
  if (f.copy) {
    f.copy = {
      ...f.copy,
      file: f.copy.file === null ? null : m(f.copy.file),
      program: f.copy.program === null ? null : m(f.copy.program),
    };
  }
  if (f.handle !== undefined) f.handle = m(f.handle);
}

function factsOf(
  stmt: ParsedStatement,
  catalog: CatalogSnapshot | undefined,
  searchPath: string[],
): StatementFacts {
  const ctx: Ctx = { catalog, searchPath, out: new Collector(), viewDepth: 0 };
  let core;
  try {
    core = analyseStatement(stmt.node, ctx);
  } catch (err) {
    // The walk is recursive; an expression nested thousands deep exhausts the stack. Such a
    // statement is refused like an unclassified one rather than failing in an unexpected way.
    if (!(err instanceof RangeError)) throw err;
    throw new PgwardenError('ERR_SQL_UNCLASSIFIED', 'statement is nested too deeply to analyse', {
      cause: err,
    });
  }
  const text = maskCardNumbers(stmt.text);
  const facts: StatementFacts = {
    kind: core.kind,
    commandTag: core.commandTag,
    tables: [...ctx.out.tables.values()],
    columns: {
      read: [...ctx.out.read].sort(),
      written: [...ctx.out.written].sort(),
      filtered: [...ctx.out.filtered].sort(),
      computed: [...ctx.out.computed].sort(),
    },
    functions: [...ctx.out.functions].sort(),
    copy: core.copy,
    where: core.where,
    limit: core.limit,
    outputs: core.outputs.map(toOutput),
    copiesData: core.copiesData || ctx.out.copies,
    text,
    fingerprint: statementFingerprint(text, stmt.text),
  };
  if (core.handle !== undefined) facts.handle = core.handle;
  if (core.copyOptions) facts.copyOptions = core.copyOptions;
  scrubNames(facts);
  return facts;
}

/**
 * Analyses every statement of a query string. Without a catalog, unqualified tables resolve to
 * the first schema of `searchPath` (default `public`) and `*` over a table of unknown columns
 * yields one output with `unknown: true`. The returned facts are frozen and shared between calls.
 * Throws `ERR_SQL_PARSE` or `ERR_SQL_UNCLASSIFIED`.
 */
export function analyzeStatements(
  text: string,
  catalog?: CatalogSnapshot,
  searchPath?: string[],
): StatementFacts[] {
  const path = searchPath ?? catalog?.searchPath ?? ['public'];
  let cache = noCatalog;
  if (catalog) {
    cache = byCatalog.get(catalog) ?? new LruCache(CACHE_SIZE);
    byCatalog.set(catalog, cache);
  }
  const key = `${path.join(',')}\u0000${text}`;
  const hit = cache.get(key);
  if (hit) return hit as StatementFacts[];
  const facts = parseCached(text).map((stmt) => factsOf(stmt, catalog, path));
  cache.set(key, deepFreeze(facts));
  return facts;
}

/** Empties the text-keyed caches (tests and benchmarks measure the uncached path with it). */
export function clearAnalysisCache(): void {
  parseCache.clear();
  noCatalog.clear();
  byCatalog = new WeakMap();
}
