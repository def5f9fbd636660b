// Lineage against a real catalog: a cards table with a pan column, views over it, a second schema.
// Each SELECT-shaped case is also run on PostgreSQL to check the outputs line up with the fields
// the server describes (same count, same names), so star expansion and naming follow the server.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type pg from 'pg';
import { createAnalyzer, type CatalogAnalyzer } from '../../src/sql/index.js';
import { createDatabase, directClient, testServer } from '../support/pg.js';
import { outputSummary } from './summary.js';

const SCHEMA = `
  CREATE TABLE merchants (id int PRIMARY KEY, name text, closed boolean);
  CREATE TABLE cards (id int PRIMARY KEY, pan text, merchant_id int, holder text);
  CREATE TABLE old_cards (id int, pan text);
  CREATE VIEW card_view AS SELECT id, pan AS card_number, holder FROM cards;
  CREATE VIEW card_view2 AS SELECT card_number AS num FROM card_view WHERE id > 0;
  CREATE VIEW card_json AS SELECT row_to_json(c) AS doc FROM cards c;
  CREATE MATERIALIZED VIEW card_mv AS SELECT merchant_id, count(*) AS n FROM cards GROUP BY 1;
  CREATE SCHEMA payments;
  CREATE TABLE payments.ledger (id int, pan text, amount numeric);
  CREATE FUNCTION mask_me(t text) RETURNS text LANGUAGE sql AS $$ SELECT t $$;
  INSERT INTO merchants VALUES (1, 'shop', false);
  INSERT INTO cards VALUES (1, '4111111111111111', 1, 'Ann');
`;

let database: string;
let client: pg.Client;
let analyzer: CatalogAnalyzer;

beforeAll(async () => {
  database = await createDatabase('sql_lineage');
  client = await directClient(database);
  await client.query(SCHEMA);
  analyzer = createAnalyzer({
    catalogConnection: (db) => ({ ...testServer(), database: db }),
  });
});

afterAll(async () => {
  await client?.end();
});

async function outputs(sql: string, searchPath?: string[]): Promise<string[]> {
  const [facts] = await analyzer.analyze(sql, { database, searchPath });
  return facts!.outputs.map(outputSummary);
}

/** Output names PostgreSQL reports for the statement (run in a rolled-back transaction). */
async function serverNames(sql: string): Promise<string[]> {
  await client.query('BEGIN');
  try {
    const result = await client.query(sql);
    return result.fields.map((f) => f.name);
  } finally {
    await client.query('ROLLBACK');
  }
}

const C = 'public.cards';
const LINEAGE: Array<[string, string, string[]]> = [
  [
    'star',
    'SELECT * FROM cards',
    [
      `id<-[${C}.id]!`,
      `pan<-[${C}.pan]!`,
      `merchant_id<-[${C}.merchant_id]!`,
      `holder<-[${C}.holder]!`,
    ],
  ],
  [
    'qualified star and alias',
    'SELECT c.*, m.name AS shop FROM cards c JOIN merchants m ON m.id = c.merchant_id',
    [
      `id<-[${C}.id]!`,
      `pan<-[${C}.pan]!`,
      `merchant_id<-[${C}.merchant_id]!`,
      `holder<-[${C}.holder]!`,
      'shop<-[public.merchants.name]!',
    ],
  ],
  [
    'join USING merges the column',
    'SELECT * FROM cards JOIN old_cards USING (id) JOIN merchants ON merchants.id = ' +
      'cards.merchant_id',
    [
      `id<-[${C}.id,public.old_cards.id]`,
      `pan<-[${C}.pan]!`,
      `merchant_id<-[${C}.merchant_id]!`,
      `holder<-[${C}.holder]!`,
      'pan<-[public.old_cards.pan]!',
      'id<-[public.merchants.id]!',
      'name<-[public.merchants.name]!',
      'closed<-[public.merchants.closed]!',
    ],
  ],
  [
    'expression and cast',
    "SELECT pan || '-' || holder AS label, pan::varchar(4) FROM cards",
    [`label<-[${C}.holder,${C}.pan]`, `pan<-[${C}.pan]`],
  ],
  [
    'function calls',
    'SELECT upper(pan), mask_me(holder), substring(pan from 1 for 6) FROM cards',
    [`upper<-[${C}.pan]`, `mask_me<-[${C}.holder]?`, `substring<-[${C}.pan]`],
  ],
  [
    'CASE and COALESCE',
    'SELECT CASE WHEN id > 1 THEN pan END, coalesce(holder, pan) FROM cards',
    [`case<-[${C}.id,${C}.pan]`, `coalesce<-[${C}.holder,${C}.pan]`],
  ],
  [
    'aggregates',
    "SELECT string_agg(pan, ','), array_agg(c), json_agg(pan), count(*) FROM cards c",
    [
      `string_agg<-[${C}.pan]`,
      `array_agg<-[${C}.holder,${C}.id,${C}.merchant_id,${C}.pan]W${C}`,
      `json_agg<-[${C}.pan]`,
      'count<-[]',
    ],
  ],
  [
    'scalar subquery',
    'SELECT (SELECT pan FROM cards WHERE id = m.id) AS p, name FROM merchants m',
    [`p<-[${C}.pan]!`, 'name<-[public.merchants.name]!'],
  ],
  [
    'FROM subquery with column aliases',
    'SELECT s.* FROM (SELECT pan, holder FROM cards) AS s(a, b)',
    [`a<-[${C}.pan]!`, `b<-[${C}.holder]!`],
  ],
  [
    'CTE',
    'WITH x AS (SELECT pan AS p FROM cards), y AS (SELECT p FROM x) SELECT * FROM y',
    [`p<-[${C}.pan]!`],
  ],
  [
    'recursive CTE',
    'WITH RECURSIVE r(v) AS (SELECT pan FROM cards UNION SELECT v FROM r) SELECT v FROM r',
    [`v<-[${C}.pan]!`],
  ],
  [
    'UNION takes both sides',
    'SELECT holder FROM cards UNION SELECT pan FROM old_cards',
    [`holder<-[${C}.holder,public.old_cards.pan]!`],
  ],
  [
    'INTERSECT and EXCEPT',
    'SELECT pan FROM cards INTERSECT SELECT pan FROM old_cards EXCEPT SELECT name FROM merchants',
    [`pan<-[${C}.pan,public.merchants.name,public.old_cards.pan]!`],
  ],
  [
    'LATERAL',
    'SELECT m.name, l.* FROM merchants m, LATERAL (SELECT pan FROM cards c WHERE c.merchant_id ' +
      '= m.id) l',
    ['name<-[public.merchants.name]!', `pan<-[${C}.pan]!`],
  ],
  [
    'window functions',
    'SELECT lag(pan) OVER w, rank() OVER (ORDER BY id) FROM cards WINDOW w AS (ORDER BY id)',
    [`lag<-[${C}.pan]`, `rank<-[${C}.id]`],
  ],
  [
    'whole-row references',
    'SELECT row_to_json(c), c::text, c, to_jsonb(c.*) FROM cards c',
    [
      `row_to_json<-[${C}.holder,${C}.id,${C}.merchant_id,${C}.pan]W${C}`,
      `c<-[${C}.holder,${C}.id,${C}.merchant_id,${C}.pan]W${C}`,
      `c<-[${C}.holder,${C}.id,${C}.merchant_id,${C}.pan]W${C}`,
      `to_jsonb<-[${C}.holder,${C}.id,${C}.merchant_id,${C}.pan]W${C}`,
    ],
  ],
  ['field of a whole row', 'SELECT (c).pan FROM cards c', [`pan<-[${C}.pan]!`]],
  [
    'view column to base column',
    'SELECT card_number, holder FROM card_view',
    [
      `card_number<-[public.card_view.card_number,${C}.pan]!`,
      `holder<-[public.card_view.holder,${C}.holder]!`,
    ],
  ],
  [
    'view over a view',
    'SELECT num FROM card_view2',
    [`num<-[public.card_view.card_number,public.card_view2.num,${C}.pan]!`],
  ],
  [
    'view that hides a whole row',
    'SELECT doc FROM card_json',
    [`doc<-[public.card_json.doc,${C}.holder,${C}.id,${C}.merchant_id,${C}.pan]W${C}`],
  ],
  [
    'materialized view',
    'SELECT * FROM card_mv',
    [`merchant_id<-[public.card_mv.merchant_id,${C}.merchant_id]!`, 'n<-[public.card_mv.n]'],
  ],
  [
    'UPDATE RETURNING',
    'UPDATE cards SET holder = pan WHERE id = 1 RETURNING holder, id',
    [`holder<-[${C}.holder,${C}.pan]!`, `id<-[${C}.id]!`],
  ],
  [
    'INSERT SELECT RETURNING *',
    'INSERT INTO old_cards SELECT id, pan FROM cards RETURNING *',
    [`id<-[${C}.id,public.old_cards.id]!`, `pan<-[${C}.pan,public.old_cards.pan]!`],
  ],
  ['DELETE RETURNING', 'DELETE FROM cards WHERE id = 1 RETURNING pan', [`pan<-[${C}.pan]!`]],
  [
    'data-modifying CTE',
    'WITH d AS (DELETE FROM cards RETURNING *) SELECT pan FROM d',
    [`pan<-[${C}.pan]!`],
  ],
  [
    'VALUES and generate_series',
    'SELECT v.a, g FROM (VALUES (1)) v(a), generate_series(1, 2) g',
    ['a<-[]', 'g<-[]'],
  ],
  [
    'unaliased expressions named like the server',
    'SELECT 1, pan IS NULL, EXISTS (SELECT 1), ARRAY[pan], current_user FROM cards',
    ['?column?<-[]', `?column?<-[${C}.pan]`, 'exists<-[]', `array<-[${C}.pan]`, 'current_user<-[]'],
  ],
];

describe('lineage with a catalog', () => {
  it.each(LINEAGE)('%s', async (_name, sql, expected) => {
    expect(await outputs(sql)).toEqual(expected);
    const names = expected.map((e) => e.slice(0, e.indexOf('<-')));
    expect(await serverNames(sql)).toEqual(names);
  });

  it('COPY TO STDOUT reports the lineage of the copied columns', async () => {
    expect(await outputs('COPY cards TO STDOUT')).toEqual([
      `id<-[${C}.id]!`,
      `pan<-[${C}.pan]!`,
      `merchant_id<-[${C}.merchant_id]!`,
      `holder<-[${C}.holder]!`,
    ]);
    expect(await outputs('COPY card_view (card_number) TO STDOUT')).toEqual([
      `card_number<-[public.card_view.card_number,${C}.pan]!`,
    ]);
  });

  it('column aliases on a table rename its columns in order', async () => {
    expect(await outputs('SELECT t.pan FROM cards AS t(pan)')).toEqual([`pan<-[${C}.id]!`]);
  });

  it('DECLARE CURSOR carries the cursor query lineage', async () => {
    expect(await outputs('DECLARE c1 CURSOR FOR SELECT card_number FROM card_view')).toEqual([
      `card_number<-[public.card_view.card_number,${C}.pan]!`,
    ]);
  });
});
