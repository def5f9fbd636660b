// The `computed` column fact, the constant-WHERE rule and nested copies: the facts the shipped
// policy uses to refuse computing on masked columns (error texts, oracles, side effects), bulk
// reads with a WHERE that chooses nothing, and writes that copy masked rows through a CTE.
import { describe, expect, it } from 'vitest';
import { analyzeStatements } from '../../src/sql/index.js';

function facts(sql: string) {
  const all = analyzeStatements(sql);
  expect(all).toHaveLength(1);
  return all[0]!;
}

const PAN = 'public.cards.pan';
const T = "translate(pan, '0123456789', 'abcdefghij')";

describe('columns.computed', () => {
  // Each statement computes on cards.pan somewhere; the comment names the construct.
  const computing: string[] = [
    `SELECT ${T}::int FROM cards WHERE id = 1`, // a function, then a cast
    'SELECT reverse(pan)::int FROM cards WHERE id = 1',
    'SELECT pan::int FROM cards', // a failing cast alone
    'SELECT CAST(pan AS numeric) FROM cards',
    'SELECT pan::text[] FROM cards', // an array literal parse
    'SELECT pan::json FROM cards',
    'SELECT 1/(CASE WHEN substr(pan,1,1) = $$4$$ THEN 0 ELSE 1 END) FROM cards WHERE id = 1',
    "SELECT CASE pan WHEN '4' THEN 1 END FROM cards",
    "SELECT pan LIKE '4%' FROM cards",
    'SELECT pan = $1 FROM cards',
    'SELECT NULLIF(pan, $1) FROM cards',
    'SELECT GREATEST(pan, $1) FROM cards',
    'SELECT pan IN (SELECT x FROM t) FROM cards',
    'SELECT EXISTS (SELECT 1 FROM t WHERE t.x = c.pan) FROM cards c',
    'SELECT min(pan) FROM cards',
    "SELECT string_agg(pan, ',' ORDER BY pan) FROM cards", // aggregate ORDER BY
    'SELECT count(*) FILTER (WHERE pan > $1) FROM cards',
    'SELECT row_number() OVER (ORDER BY pan) FROM cards', // window ORDER BY
    'SELECT first_value(id) OVER w FROM cards WINDOW w AS (PARTITION BY pan)',
    'SELECT (ARRAY[1,2])[length(pan)] FROM cards', // a subscript
    "SELECT query_to_xml('select 1', false, false, '') , length(pan) FROM cards",
    'SELECT myfunc(pan) FROM cards', // a user function: side effects
    "SELECT lo_from_bytea(424242, convert_to(pan, 'UTF8')) FROM cards WHERE id = 2",
    'SELECT s FROM cards, LATERAL substr(pan, 1, 1) s',
    'SELECT x FROM cards, LATERAL (SELECT length(pan) x) s',
    'SELECT length(x) FROM (SELECT pan AS x FROM cards) s',
    'WITH x AS (SELECT pan FROM cards) SELECT upper(pan) FROM x',
    'WITH RECURSIVE r(p) AS (SELECT pan FROM cards UNION SELECT p FROM r) SELECT abs(p::int) FROM r',
    'SELECT (SELECT length(pan) FROM cards LIMIT 1)',
    'SELECT length(p) FROM (SELECT pan FROM cards UNION ALL SELECT pan FROM cards) u(p)',
    'SELECT generate_series(1, length(pan)) FROM cards',
    'WITH x AS (SELECT pan FROM cards WHERE id = 1) INSERT INTO transactions ' +
      '(card_id, merchant_id, amount) SELECT 1, 1, substr(pan, 1, 8)::numeric FROM x',
    'INSERT INTO t (a) SELECT length(pan) FROM cards',
    'UPDATE t SET a = length(c.pan) FROM cards c WHERE c.id = t.id',
    'UPDATE cards SET brand = brand RETURNING length(pan)',
    'DELETE FROM t USING cards c WHERE t.id = c.id RETURNING abs(c.pan::int)',
    'MERGE INTO t USING cards c ON t.id = c.id WHEN NOT MATCHED THEN INSERT (a) VALUES (length(c.pan))',
    'WITH w AS (INSERT INTO t (a) SELECT length(pan) FROM cards RETURNING 1) SELECT 1',
    'DECLARE k CURSOR FOR SELECT length(pan) FROM cards',
    'PREPARE p AS SELECT length(pan) FROM cards',
    'EXPLAIN ANALYZE SELECT pan::int FROM cards',
    'COPY (SELECT length(pan) FROM cards) TO STDOUT',
    'SELECT 1 FROM cards ORDER BY pan::int',
    'SELECT pan FROM cards WHERE length(pan) > 1',
    'SELECT pan FROM cards LIMIT (SELECT length(pan) FROM cards LIMIT 1)',
    'SELECT pan_text FROM cards, LATERAL (SELECT pan::int::text AS pan_text) s',
    'CALL proc(pan)', // no FROM: still a reference in a computation
    // A second review: a JSON_TABLE path filter tests the document's values.
    "SELECT jt.* FROM cards c, JSON_TABLE(jsonb_build_object('a', c.pan), '$' COLUMNS " +
      '(a text PATH \'$.a ? (@ starts with "4111")\')) jt',
    "SELECT x.* FROM cards c, XMLTABLE('/r' PASSING xmlelement(name r, c.pan) COLUMNS v text) x",
    // ... set operations compare rows, and a length-limited cast keeps only a prefix.
    "SELECT count(*) FROM (SELECT id, pan FROM cards UNION SELECT 1, '4111111111111111') s",
    "SELECT id FROM (SELECT id, pan FROM cards INTERSECT SELECT 1, 'x') s",
    "SELECT id FROM (SELECT id, pan FROM cards EXCEPT ALL SELECT 1, 'x') s",
    "SELECT id FROM (SELECT id, pan FROM cards INTERSECT ALL SELECT 1, 'x') s",
    'SELECT pan::varchar(4) FROM cards',
    'SELECT CAST(pan AS char(3)) FROM cards',
    'SELECT pan::char FROM cards', // char means char(1)
    'WITH RECURSIVE r(p) AS (SELECT pan FROM cards UNION SELECT p FROM r) SELECT p FROM r',
  ];
  it.each(computing)('%s computes on cards.pan', (sql) => {
    const f = facts(sql.replace('CALL proc(pan)', 'CALL proc((SELECT pan FROM cards))'));
    expect(f.columns.computed).toContain(PAN);
  });

  // Pass-through output: the value reaches the result (and is masked there) without a
  // computation that could fail or act on it.
  const passing: string[] = [
    'SELECT pan FROM cards WHERE id = 1',
    'SELECT pan AS x, c.pan, cards.pan FROM cards c, cards',
    'SELECT * FROM cards',
    'SELECT c FROM cards c',
    'SELECT c.* FROM cards c',
    'SELECT pan::text, pan::varchar, CAST(pan AS bpchar) FROM cards',
    "SELECT 'card:' || pan || '' FROM cards",
    "SELECT concat(pan), concat_ws('-', pan, 'x') FROM cards",
    "SELECT COALESCE(pan, 'none') FROM cards",
    "SELECT CASE WHEN id > 0 THEN pan ELSE 'x' END FROM cards",
    'SELECT ARRAY[pan], ROW(pan, id) FROM cards',
    'SELECT row_to_json(c), to_jsonb(c), to_json(pan) FROM cards c',
    "SELECT json_build_object('p', pan), jsonb_build_array(pan) FROM cards",
    "SELECT string_agg(pan, ','), array_agg(pan), json_agg(pan), jsonb_agg(c) FROM cards c",
    'SELECT unnest(array_agg(pan)) FROM cards',
    'SELECT first_value(pan) OVER w, lag(pan) OVER w FROM cards WINDOW w AS (ORDER BY id)',
    'SELECT (SELECT pan FROM cards c2 WHERE c2.id = c.id) FROM cards c',
    'SELECT ARRAY(SELECT pan FROM cards)',
    'SELECT x FROM (SELECT pan AS x FROM cards) s',
    'WITH x AS (SELECT pan FROM cards) SELECT pan FROM x',
    'SELECT pan FROM cards UNION ALL SELECT pan FROM cards',
    'WITH RECURSIVE r(p) AS (SELECT pan FROM cards UNION ALL SELECT p FROM r) SELECT p FROM r',
    'SELECT (c).pan FROM cards c',
    'SELECT pan COLLATE "C" FROM cards',
    'UPDATE cards SET brand = brand WHERE id = 1 RETURNING pan',
    'COPY cards TO STDOUT',
    'COPY (SELECT id, pan FROM cards) TO STDOUT',
    'DECLARE k CURSOR FOR SELECT pan FROM cards',
  ];
  it.each(passing)('%s does not compute on cards.pan', (sql) => {
    const f = facts(sql);
    expect(f.columns.computed).not.toContain(PAN);
    expect(f.columns.computed).not.toContain('public.cards.*');
  });

  it('names a whole row in a computation as schema.table.*', () => {
    expect(facts('SELECT md5(c::text) FROM cards c').columns.computed).toEqual(['public.cards.*']);
  });

  it('marks the outputs of functions that run SQL given as text as unknown', () => {
    for (const fn of [
      "query_to_xml('select pan from cards', false, false, '')",
      "table_to_xml('holders', false, false, '')",
      "ts_stat('SELECT to_tsvector(''simple'', pan) FROM cards')",
      "cursor_to_xml('c', 10, false, false, '')",
      "database_to_xml(false, false, '')",
    ]) {
      const f = facts(`SELECT ${fn}`);
      expect(f.outputs[0]!.unknown, fn).toBe(true);
    }
  });
});

describe('where', () => {
  it.each([
    ['SELECT id, pan FROM cards WHERE true', false],
    ['SELECT id, pan FROM cards WHERE 1 = 1', false],
    ["SELECT id, pan FROM cards WHERE 'a' <> 'b' AND NOT false", false],
    ['SELECT id, pan FROM cards WHERE random() < 2', false],
    ['SELECT id, pan FROM cards WHERE $1', false],
    ['SELECT id, pan FROM cards WHERE (SELECT count(*) FROM t) > 0', false],
    ['SELECT id, pan FROM cards', false],
    ['SELECT id, pan FROM cards WHERE id = 1', true],
    ['SELECT id, pan FROM cards c WHERE c.id < $1', true],
    ['SELECT id, pan FROM cards c WHERE c IS NOT NULL', true],
    ['SELECT id FROM cards WHERE id IN (SELECT card_id FROM t)', true],
    ['DELETE FROM t WHERE true', false],
    ['DELETE FROM t WHERE id = 1', true],
    ['UPDATE t SET a = 1 WHERE 1 = 1', false],
    ['UPDATE t SET a = 1 WHERE id = 2', true],
  ])('%s: where is %s', (sql, where) => {
    expect(facts(sql).where).toBe(where);
  });

  it('takes FETCH FIRST as LIMIT', () => {
    expect(facts('SELECT id FROM cards FETCH FIRST 5 ROWS ONLY').limit).toBe(5);
    // Past 2^31 the parser keeps the number as text: not a known number, so null.
    expect(facts('SELECT id FROM cards FETCH FIRST 10000000000 ROWS ONLY').limit).toBe(null);
  });
});

describe('copiesData through CTEs', () => {
  it.each([
    'WITH x AS (SELECT pan FROM cards WHERE id = 1) INSERT INTO transactions ' +
      '(card_id, merchant_id, amount) SELECT 1, 1, 0 FROM x',
    'WITH x AS (SELECT pan FROM cards) UPDATE t SET a = (SELECT pan FROM x LIMIT 1)',
    'WITH x AS (SELECT id, pan FROM cards) MERGE INTO t USING x ON t.id = x.id ' +
      'WHEN NOT MATCHED THEN INSERT (a) VALUES (x.pan)',
    'WITH w AS (INSERT INTO t (a) SELECT pan FROM cards RETURNING 1) SELECT * FROM w',
    'WITH w AS (UPDATE t SET a = c.pan FROM cards c WHERE c.id = t.id RETURNING 1) SELECT 1',
    'SELECT 1 FROM (SELECT 1) s, LATERAL (SELECT 1) l WHERE EXISTS (SELECT 1)',
  ])('%s', (sql) => {
    const f = facts(sql);
    const expected = !sql.startsWith('SELECT 1 FROM (SELECT 1)');
    expect(f.copiesData).toBe(expected);
  });

  it('a writing CTE does not copy when it reads no table', () => {
    expect(
      facts('WITH w AS (INSERT INTO t (a) VALUES (1) RETURNING a) SELECT a FROM w').copiesData,
    ).toBe(false);
  });
});
