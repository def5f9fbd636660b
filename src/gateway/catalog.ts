/**
 * Column names by (table OID, attribute number), which maskers need to map a RowDescription
 * field back to `schema.table.column`. Looked up over a connection of the gateway's own, never
 * the client session's (that one may be busy or inside an aborted transaction).
 */
import pg from 'pg';
import { PgwardenError } from '../errors.js';
import type { UpstreamOptions } from './options.js';

/** Maps `oid:attnum` to `schema.table.column`. */
export type ColumnNames = Map<string, string>;

const QUERY = `
  SELECT c.oid::int8 AS oid, a.attnum, n.nspname, c.relname, a.attname
  FROM pg_catalog.pg_class c
  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
  JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid
  WHERE a.attnum > 0 AND NOT a.attisdropped AND n.nspname || '.' || c.relname = ANY($1)`;

/** Looks up column names per database over one lazily opened connection per database. */
export class CatalogLookup {
  private readonly clients = new Map<string, Promise<pg.Client>>();
  /**
   * Bumped whenever DDL committed through any session: facts and decisions derived under an
   * older generation (the sessions' decision caches) no longer apply.
   */
  generation = 0;

  constructor(private readonly upstream: UpstreamOptions) {}

  /** Column names of the given `schema.table` names in `database`. */
  async columns(database: string, tables: string[]): Promise<ColumnNames> {
    const names: ColumnNames = new Map();
    if (tables.length === 0) return names;
    try {
      const client = await this.client(database);
      const { rows } = await client.query(QUERY, [tables]);
      for (const row of rows as Array<Record<string, string | number>>) {
        names.set(`${row.oid}:${row.attnum}`, `${row.nspname}.${row.relname}.${row.attname}`);
      }
      return names;
    } catch (err) {
      this.clients.delete(database);
      throw new PgwardenError('ERR_UPSTREAM', 'catalog lookup failed', { cause: err });
    }
  }

  /** Closes every catalog connection. */
  async close(): Promise<void> {
    const all = [...this.clients.values()];
    this.clients.clear();
    await Promise.all(all.map((p) => p.then((c) => c.end()).catch(() => undefined)));
  }

  private client(database: string): Promise<pg.Client> {
    let client = this.clients.get(database);
    if (!client) {
      const { host, port, user, tls } = this.upstream;
      const created = new pg.Client({
        host,
        port,
        user,
        database,
        password: this.upstream.password(),
        ssl: tls
          ? { rejectUnauthorized: tls.rejectUnauthorized, ca: tls.ca, servername: tls.servername }
          : false,
      });
      created.on('error', () => this.clients.delete(database));
      client = created.connect().then(() => created);
      this.clients.set(database, client);
    }
    return client;
  }
}
