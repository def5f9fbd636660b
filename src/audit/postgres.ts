/**
 * The PostgreSQL sink, for fleets of gateways: every instance appends its own chain to one
 * table, the same records, hashes, segments and signed checkpoints as the file sink, one row a
 * record. The gateway's role needs only INSERT and SELECT on the table (see docs/audit.md), so
 * a compromised gateway cannot rewrite what it wrote; the verifier reads the table back and runs
 * the same checks as on files.
 */
import pg from 'pg';
import type { ChainHead } from './chain.js';
import type { Destination, SealedLine } from './destination.js';
import { writeError } from './destination.js';
import { splitLines, type ChainFile } from './files.js';
import { GENESIS_HASH, isAuditRecord } from './record.js';
import type { TrailStore } from './trail.js';

/** Default table of the PostgreSQL sink. */
export const AUDIT_TABLE = 'pgwarden_audit';

/**
 * The table, created by an administrator (or by the gateway when its role may). `line` is the
 * record exactly as a file would hold it, without the newline, so hashes verify byte for byte;
 * the other columns are copies for indexing and are not trusted by the verifier.
 */
export function auditTableDdl(table = AUDIT_TABLE): string {
  const t = quoteTable(table);
  return [
    `CREATE TABLE IF NOT EXISTS ${t} (`,
    '  instance text NOT NULL,',
    '  seq bigint NOT NULL,',
    '  segment text NOT NULL,',
    '  kind text NOT NULL,',
    '  time timestamptz NOT NULL,',
    '  line text NOT NULL,',
    '  PRIMARY KEY (instance, seq)',
    ')',
  ].join('\n');
}

/** Quotes `schema.table` or `table` as identifiers. */
function quoteTable(table: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$/.test(table)) {
    throw new TypeError(`audit table name ${table} is not a plain [schema.]name`);
  }
  return table
    .split('.')
    .map((p) => `"${p}"`)
    .join('.');
}

/** Options of {@link openPostgresAuditStore}. */
export interface PostgresStoreOptions {
  /** Connection string (holds a password: never logged). */
  dsn: string;
  /** Default {@link AUDIT_TABLE}. */
  table?: string;
  /** Try `CREATE TABLE IF NOT EXISTS` at open; off for a role that may only insert. */
  createTable?: boolean;
}

/** Writes groups of records as one multi-row INSERT, committed before `write` resolves. */
class PostgresDestination implements Destination {
  private client: pg.Client | null = null;
  private segment: string | null = null;
  private closed = false;

  constructor(
    private readonly dsn: string,
    private readonly table: string,
    private readonly instance: () => string,
  ) {}

  async connection(): Promise<pg.Client> {
    if (this.closed) throw writeError('audit sink is closed');
    if (this.client) return this.client;
    const client = new pg.Client({ connectionString: this.dsn });
    // A dropped connection fails the next write; the trail then recovers with a new one.
    client.on('error', () => {
      if (this.client === client) this.client = null;
    });
    await client.connect();
    this.client = client;
    return client;
  }

  async open(name: string): Promise<void> {
    this.segment = name;
    await this.connection();
  }

  async write(lines: SealedLine[]): Promise<number> {
    if (lines.length === 0) return 0;
    if (this.segment === null) throw writeError('audit sink has no open segment');
    const text = lines.map((l) => l.line.slice(0, -1));
    const client = await this.connection();
    try {
      // One statement, one implicit transaction: the group is committed (and, with the
      // server's default synchronous_commit, flushed) when the INSERT returns.
      await client.query(
        `INSERT INTO ${this.table} (instance, seq, segment, kind, time, line)
         SELECT $1, s, $2, k, t, l
         FROM unnest($3::bigint[], $4::text[], $5::timestamptz[], $6::text[]) AS u(s, k, t, l)`,
        [
          this.instance(),
          this.segment,
          lines.map((l) => l.seq),
          lines.map((l) => l.kind),
          lines.map((l) => l.time),
          text,
        ],
      );
    } catch (err) {
      await this.drop();
      throw writeError(`audit sink insert failed: ${(err as Error).message}`, err);
    }
    return text.reduce((n, t) => n + Buffer.byteLength(t) + 1, 0);
  }

  private async drop(): Promise<void> {
    const client = this.client;
    this.client = null;
    await client?.end().catch(() => undefined);
  }

  async close(): Promise<void> {
    await this.drop();
  }

  /** Marks the sink closed for good (the trail's close). */
  shutdown(): Promise<void> {
    this.closed = true;
    return this.drop();
  }
}

/** A {@link TrailStore} that keeps the chain in PostgreSQL; `close` ends its connections. */
export interface PostgresStore extends TrailStore {
  close(): Promise<void>;
  /** Set by the trail: the instance whose chain this store holds. */
  instance: string;
}

/** Connects to the sink's database and returns the store for `openAuditTrail`. */
export async function openPostgresAuditStore(
  options: PostgresStoreOptions,
): Promise<PostgresStore> {
  const table = quoteTable(options.table ?? AUDIT_TABLE);
  const store = {
    instance: '',
    describe: `postgres table ${options.table ?? AUDIT_TABLE}`,
  } as PostgresStore;
  const destination = new PostgresDestination(options.dsn, table, () => store.instance);
  store.destination = destination;
  store.close = () => destination.shutdown();
  store.readHead = async (instance: string): Promise<ChainHead> => {
    store.instance = instance;
    const client = await destination.connection();
    const { rows } = await client.query<{ line: string; segment: string }>(
      `SELECT line, segment FROM ${table} WHERE instance = $1 ORDER BY seq DESC LIMIT 1`,
      [instance],
    );
    const row = rows[0];
    if (!row) return { seq: 0, hash: GENESIS_HASH, file: null };
    const record: unknown = JSON.parse(row.line);
    if (!isAuditRecord(record)) throw writeError('cannot continue the chain: last row unreadable');
    return { seq: record.seq, hash: record.hash, file: row.segment };
  };
  if (options.createTable) {
    const client = await destination.connection();
    await client.query(auditTableDdl(options.table ?? AUDIT_TABLE));
  }
  return store;
}

/**
 * Reads every chain of a sink's table for the readers and the verifier: one chain per
 * instance, one "file" per segment, rows in `seq` order. `url` is the DSN, optionally with
 * `#table` naming a table other than the default.
 */
export async function loadPostgresChains(url: string): Promise<ChainFile[][]> {
  const hash = url.indexOf('#');
  const dsn = hash < 0 ? url : url.slice(0, hash);
  const table = quoteTable(hash < 0 ? AUDIT_TABLE : url.slice(hash + 1));
  const client = new pg.Client({ connectionString: dsn });
  await client.connect();
  try {
    const { rows } = await client.query<{
      instance: string;
      segment: string;
      seq: string;
      line: string;
    }>(`SELECT instance, segment, seq, line FROM ${table} ORDER BY instance, seq`);
    const chains = new Map<string, ChainFile[]>();
    for (const row of rows) {
      const files = chains.get(row.instance) ?? [];
      let file = files[files.length - 1];
      if (!file || file.name !== row.segment) {
        file = {
          path: `${table}/${row.segment}`,
          name: row.segment,
          instance: row.instance,
          firstSeq: Number(row.seq),
          content: splitLines(Buffer.alloc(0)),
        };
        files.push(file);
        chains.set(row.instance, files);
      }
      const lines = file.content!.lines;
      lines.push({ line: lines.length + 1, offset: 0, text: row.line });
    }
    return [...chains.values()];
  } finally {
    await client.end();
  }
}

/** True when `path` names a PostgreSQL sink rather than a folder or file. */
export function isPostgresUrl(path: string): boolean {
  return /^postgres(ql)?:\/\//.test(path);
}
