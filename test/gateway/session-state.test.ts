// What one statement changes for the analysis of the next: search_path and the catalog.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseSearchPath } from '../../src/gateway/response-flow.js';
import { createAnalyzer } from '../../src/sql/index.js';
import { Backend, message, parseMessage, queryMessage, syncMessage } from '../../src/wire/index.js';
import { errorFields, RawClient } from '../support/gateway-raw.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { functionDecider } from '../support/gateway-fixtures.js';
import { createDatabase, directClient, testServer } from '../support/pg.js';

let gw: TestGateway;
let database: string;
const decider = functionDecider();

beforeAll(async () => {
  database = await createDatabase('gw_state');
  const admin = await directClient(database);
  await admin.query('CREATE SCHEMA other');
  await admin.query('CREATE TABLE public.t (b int)');
  await admin.query('CREATE TABLE other.t (a int)');
  await admin.query('INSERT INTO other.t VALUES (1)');
  await admin.end();
  const server = testServer();
  gw = await startTestGateway({
    analyzer: createAnalyzer({ catalogConnection: (db) => ({ ...server, database: db }) }),
    decider: () => decider,
  });
});

afterAll(async () => {
  await gw?.close();
});

/** Bind of the unnamed statement to the unnamed portal, no parameters. */
const bindMessage = () => message(0x42, Buffer.from([0, 0, 0, 0, 0, 0, 0, 0]));
/** Execute of the unnamed portal, all rows. */
const executeMessage = () => message(0x45, Buffer.from([0, 0, 0, 0, 0]));

function lastTables(): string[] {
  const input = decider.inputs[decider.inputs.length - 1]!;
  return input.statement.tables.map((t) => `${t.schema}.${t.name}`);
}

describe('search_path', () => {
  it('splits a reported setting like PostgreSQL', () => {
    expect(parseSearchPath('"$user", public, "A,b", Other', 'bob')).toEqual([
      'bob',
      'public',
      'A,b',
      'other',
    ]);
  });

  it('analyses statements against the path the session set', async () => {
    const client = await gw.connect(database);
    await client.query('SELECT * FROM t');
    expect(lastTables()).toEqual(['public.t']);
    await client.query('SET search_path = other, public');
    const { rows } = await client.query('SELECT * FROM t WHERE a = 1');
    expect(rows).toEqual([{ a: 1 }]);
    expect(lastTables()).toEqual(['other.t']);
    // A reused decision would carry the old path's facts: the cache is keyed by path too.
    await client.query('RESET search_path');
    await client.query('SELECT * FROM t');
    expect(lastTables()).toEqual(['public.t']);
    await client.end();
  });

  it('refuses statements after a path change in the same query string', async () => {
    const client = await gw.connect(database);
    const err = await client.query('SET search_path = other; SELECT * FROM t').catch((e) => e);
    expect(err).toMatchObject({ code: '0A000' });
    expect(err.message).toMatch(/search_path/);
    // Nothing of the string ran.
    expect((await client.query('SHOW search_path')).rows[0].search_path).toMatch(/public/);
    await client.end();
  });

  it('waits for a pipelined path change before deciding the next statement', async () => {
    const raw = await RawClient.connect(gw.gateway.address.port);
    await raw.login(database, 'test:ci-job:etl');
    // Both Query messages in one write: the second is read before the first is answered.
    raw.write(
      Buffer.concat([queryMessage('SET search_path = other'), queryMessage('SELECT * FROM t')]),
    );
    let ready = 0;
    const replies = await raw.until((m) => m.type === Backend.ReadyForQuery && ++ready === 2);
    expect(replies.some((m) => m.type === Backend.ErrorResponse)).toBe(false);
    expect(lastTables()).toEqual(['other.t']);
    raw.end();
  });

  it('refuses a statement pipelined after a path change with no Sync between', async () => {
    const raw = await RawClient.connect(gw.gateway.address.port);
    await raw.login(database, 'test:ci-job:etl');
    raw.write(
      Buffer.concat([
        parseMessage('', 'SET search_path = other'),
        bindMessage(),
        executeMessage(),
        parseMessage('', 'SELECT * FROM t'),
        syncMessage(),
      ]),
    );
    const replies = await raw.until((m) => m.type === Backend.ReadyForQuery);
    const error = replies.find((m) => m.type === Backend.ErrorResponse);
    expect(error && errorFields(error).C).toBe('0A000');
    raw.end();
  });
});

describe('DDL', () => {
  it('sees a table created in a committed transaction', async () => {
    const client = await gw.connect(database);
    await client.query('BEGIN');
    await client.query('CREATE TABLE fresh (x int, y int)');
    await client.query('COMMIT');
    await client.query('SELECT * FROM fresh');
    const input = decider.inputs[decider.inputs.length - 1]!;
    expect(input.statement.columns.read).toEqual(['public.fresh.x', 'public.fresh.y']);
    await client.end();
  });
});
