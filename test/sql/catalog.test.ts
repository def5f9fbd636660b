// The per-database catalog: names resolved on the search_path, functions qualified, views expanded
// to their base tables, OID/attnum lookups matching RowDescription, and refresh after DDL.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type pg from 'pg';
import { createAnalyzer, type CatalogAnalyzer } from '../../src/sql/index.js';
import { isPgwardenError } from '../../src/errors.js';
import { createDatabase, directClient, testServer } from '../support/pg.js';
import { summarize } from './summary.js';

let database: string;
let client: pg.Client;
let analyzer: CatalogAnalyzer;

beforeAll(async () => {
  database = await createDatabase('sql_catalog');
  client = await directClient(database);
  await client.query(`
    CREATE TABLE cards (id int PRIMARY KEY, pan text, merchant_id int);
    CREATE VIEW card_view AS SELECT id, pan AS card_number FROM cards;
    CREATE SCHEMA payments;
    CREATE TABLE payments.ledger (id int, pan text);
    CREATE FUNCTION public.tokenize(t text) RETURNS text LANGUAGE sql AS $$ SELECT md5(t) $$;
    INSERT INTO cards VALUES (1, '4111111111111111', 7);
  `);
  analyzer = createAnalyzer({ catalogConnection: (db) => ({ ...testServer(), database: db }) });
});

afterAll(async () => {
  await client?.end();
});

async function facts(sql: string, searchPath?: string[]) {
  const [f] = await analyzer.analyze(sql, { database, searchPath });
  return summarize(f!);
}

describe('catalog-backed analysis', () => {
  it('qualifies built-in functions to pg_catalog and user functions to their schema', async () => {
    const f = await facts('SELECT upper(pan), tokenize(pan), nosuchfn(pan) FROM cards');
    expect(f.functions).toBe('nosuchfn pg_catalog.upper public.tokenize');
  });

  it('reading a view reports the view and its base table, and base columns as read', async () => {
    expect(await facts('SELECT card_number FROM card_view WHERE id = 1')).toEqual({
      kind: 'select',
      tag: 'SELECT',
      tables: 'public.card_view:read public.cards:read',
      read: 'public.card_view.card_number public.cards.pan',
      filtered: 'public.card_view.id public.cards.id',
      where: true,
      outputs: 'card_number<-[public.card_view.card_number,public.cards.pan]!',
    });
  });

  it('resolves unqualified tables on the session search_path', async () => {
    const f = await facts('SELECT pan FROM ledger', ['payments', 'public']);
    expect(f.tables).toBe('payments.ledger:read');
    expect(f.outputs).toBe('pan<-[payments.ledger.pan]!');
    // pg_catalog is searched first, as in PostgreSQL.
    expect((await facts('SELECT relname FROM pg_class')).tables).toBe('pg_catalog.pg_class:read');
  });

  it('expands columns written by an INSERT without a column list', async () => {
    const f = await facts("INSERT INTO cards VALUES (2, '5500000000000004')");
    expect(f.written).toBe('public.cards.id public.cards.pan');
    expect(f.copiesData).toBeUndefined();
  });

  it('maps a RowDescription table OID and attribute number to the qualified column', async () => {
    await analyzer.catalog(database);
    const result = await client.query('SELECT pan, id FROM cards');
    const [pan, id] = result.fields;
    expect(analyzer.columnName(database, pan!.tableID, pan!.columnID)).toBe('public.cards.pan');
    expect(analyzer.columnName(database, id!.tableID, id!.columnID)).toBe('public.cards.id');
    expect(analyzer.columnName(database, 1, 1)).toBeUndefined();
    expect(analyzer.columnName('nosuchdb', pan!.tableID, pan!.columnID)).toBeUndefined();
  });

  it('reloads the catalog after DDL passes through the analyser', async () => {
    expect((await facts('SELECT * FROM cards')).outputs).not.toContain('note');
    await analyzer.analyze('ALTER TABLE cards ADD COLUMN note text', { database });
    await client.query('ALTER TABLE cards ADD COLUMN note text');
    expect((await facts('SELECT * FROM cards')).outputs).toContain('note<-[public.cards.note]!');
  });

  it('reloads after invalidate() for DDL made elsewhere', async () => {
    await client.query('CREATE TABLE late (x int)');
    expect((await facts('SELECT * FROM late')).outputs).toBe('*<-[]Wpublic.late?');
    analyzer.invalidate(database);
    expect((await facts('SELECT * FROM late')).outputs).toBe('x<-[public.late.x]!');
  });

  it('refreshes a snapshot older than maxAgeMs in the background', async () => {
    const eager = createAnalyzer({
      catalogConnection: (db) => ({ ...testServer(), database: db }),
      maxAgeMs: 0,
    });
    const first = await eager.catalog(database);
    await client.query('CREATE TABLE later_still (y int)');
    // The stale snapshot still answers while the reload runs.
    expect(await eager.catalog(database)).toBe(first);
    await expect
      .poll(async () => (await eager.catalog(database)) !== first, { timeout: 15_000 })
      .toBe(true);
    const [f] = await eager.analyze('SELECT * FROM later_still', { database });
    expect(f!.outputs.map((o) => o.name)).toEqual(['y']);
  });

  it('fails closed with ERR_UPSTREAM when the catalog cannot be loaded', async () => {
    const broken = createAnalyzer({
      catalogConnection: () => ({ ...testServer(), password: 'wrong-password' }),
    });
    const error = await broken.analyze('SELECT 1', { database }).catch((e: unknown) => e);
    expect(isPgwardenError(error, 'ERR_UPSTREAM')).toBe(true);
  });

  it('works without a catalog connection', async () => {
    const plain = createAnalyzer();
    const [f] = await plain.analyze('SELECT * FROM cards', { database });
    expect(f!.outputs[0]!.unknown).toBe(true);
    expect(await plain.catalog(database)).toBeUndefined();
  });
});
