/**
 * The analyser the gateway uses: per-database catalog snapshots loaded over a dedicated upstream
 * connection (a session's own connection may sit in an aborted transaction), refreshed after DDL,
 * and the synchronous core on top.
 */
import pg from 'pg';
import { PgwardenError } from '../errors.js';
import { silentLogger, type Logger } from '../logger.js';
import { analyzeStatements } from './analyze.js';
import { loadCatalog, qualifiedColumn, type CatalogSnapshot } from './catalog.js';
import type { AnalyzeContext, StatementAnalyzer, StatementFacts } from './types.js';
import { isDdl } from './utility.js';

/** Options of {@link createAnalyzer}. */
export interface AnalyzerOptions {
  /** Connection settings for the catalog connection of a database; without it, no catalog. */
  catalogConnection?: (database: string) => pg.ClientConfig;
  logger?: Logger;
  /** A snapshot older than this is reloaded in the background (default 60 s). */
  maxAgeMs?: number;
}

/** A StatementAnalyzer that also exposes its catalog cache. */
export interface CatalogAnalyzer extends StatementAnalyzer {
  /** Drops the cached catalog of `database`; the next analysis loads it afresh. */
  invalidate(database: string): void;
  /** `schema.table.column` for a RowDescription's table OID and attribute number. */
  columnName(database: string, oid: number, attnum: number): string | undefined;
  /** The current snapshot of `database`, loading it when needed (undefined without catalogs). */
  catalog(database: string): Promise<CatalogSnapshot | undefined>;
}

interface Entry {
  snapshot?: CatalogSnapshot;
  loading?: Promise<CatalogSnapshot>;
  /** Bumped by invalidate: a load that started before it must not be kept. */
  generation: number;
}

/** Creates the gateway's statement analyser. */
export function createAnalyzer(options: AnalyzerOptions = {}): CatalogAnalyzer {
  const logger = options.logger ?? silentLogger;
  const maxAge = options.maxAgeMs ?? 60_000;
  if (!Number.isFinite(maxAge) || maxAge < 0) throw new TypeError('maxAgeMs must be >= 0');
  const entries = new Map<string, Entry>();

  async function load(database: string, entry: Entry): Promise<CatalogSnapshot> {
    const generation = entry.generation;
    const config = (options.catalogConnection as (db: string) => pg.ClientConfig)(database);
    const client = new pg.Client({ ...config, application_name: 'pgwarden-catalog' });
    const started = Date.now();
    try {
      await client.connect();
      const snapshot = await loadCatalog(client, database);
      if (entry.generation === generation) entry.snapshot = snapshot;
      logger.debug(
        { database, relations: snapshot.relations.size, ms: Date.now() - started },
        'catalog loaded',
      );
      return snapshot;
    } catch (err) {
      logger.warn({ database, err: (err as Error).message }, 'catalog load failed');
      throw new PgwardenError('ERR_UPSTREAM', `cannot load the catalog of ${database}`, {
        cause: err,
      });
    } finally {
      await client.end().catch(() => undefined);
    }
  }

  /** Starts a load unless one is under way; the entry forgets it once it settles. */
  function startLoad(database: string, entry: Entry): Promise<CatalogSnapshot> {
    if (entry.loading) return entry.loading;
    const loading: Promise<CatalogSnapshot> = load(database, entry).finally(() => {
      if (entry.loading === loading) entry.loading = undefined;
    });
    entry.loading = loading;
    return loading;
  }

  async function catalog(database: string): Promise<CatalogSnapshot | undefined> {
    if (!options.catalogConnection) return undefined;
    let entry = entries.get(database);
    if (!entry) {
      entry = { generation: 0 };
      entries.set(database, entry);
    }
    const current = entry.snapshot;
    if (current) {
      if (Date.now() - current.loadedAt >= maxAge && !entry.loading) {
        // Stale but usable: refresh in the background, keep answering from the old snapshot.
        startLoad(database, entry).catch(() => undefined);
      }
      return current;
    }
    return startLoad(database, entry);
  }

  function invalidate(database: string): void {
    const entry = entries.get(database);
    if (!entry) return;
    entry.generation++;
    entry.snapshot = undefined;
    entry.loading = undefined;
  }

  return {
    async analyze(text: string, context: AnalyzeContext): Promise<StatementFacts[]> {
      if (typeof text !== 'string') throw new TypeError('statement text must be a string');
      const snapshot = await catalog(context.database);
      const facts = analyzeStatements(text, snapshot, context.searchPath);
      // DDL changes the catalog once it runs; drop the snapshot so the next statement reloads.
      if (facts.some((f) => isDdl(f.kind))) invalidate(context.database);
      return facts;
    },
    invalidate,
    columnName(database, oid, attnum) {
      const snapshot = entries.get(database)?.snapshot;
      return snapshot ? qualifiedColumn(snapshot, oid, attnum) : undefined;
    },
    catalog,
  };
}
