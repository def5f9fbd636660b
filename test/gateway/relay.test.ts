import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { functionDecider } from '../support/gateway-fixtures.js';
import { createDatabase, directClient } from '../support/pg.js';

let gw: TestGateway;
let database: string;

beforeAll(async () => {
  database = await createDatabase('gw_relay');
  const admin = await directClient(database);
  await admin.query('CREATE TABLE items (id int primary key, name text)');
  await admin.query("INSERT INTO items SELECT g, 'item ' || g FROM generate_series(1, 100) g");
  await admin.query('CREATE TABLE secrets (id int)');
  await admin.end();
  // Deny anything touching `secrets` and any DROP.
  const decider = functionDecider((input) => {
    if (input.statement.tables.some((t) => t.name === 'secrets')) {
      return { allow: false, reasons: ['secrets are off limits'] };
    }
    if (input.statement.kind === 'drop') return { allow: false, reasons: ['no DROP'] };
    return {};
  });
  gw = await startTestGateway({ decider: () => decider });
});

afterAll(async () => {
  await gw?.close();
});

describe('relay through the gateway', () => {
  it('runs simple queries and reports server parameters', async () => {
    const client = await gw.connect(database);
    try {
      const { rows } = await client.query('SELECT count(*)::int AS n FROM items');
      expect(rows[0].n).toBe(100);
      const version = await client.query('SHOW server_version_num');
      expect(Number(version.rows[0].server_version_num)).toBeGreaterThanOrEqual(180000);
    } finally {
      await client.end();
    }
  });

  it('runs extended queries with parameters and named prepared statements', async () => {
    const client = await gw.connect(database);
    try {
      const { rows } = await client.query('SELECT name FROM items WHERE id = $1', [7]);
      expect(rows).toEqual([{ name: 'item 7' }]);
      for (const id of [1, 2, 3]) {
        const named = await client.query({
          name: 'by_id',
          text: 'SELECT id, name FROM items WHERE id = $1',
          values: [id],
        });
        expect(named.rows).toEqual([{ id, name: `item ${id}` }]);
      }
    } finally {
      await client.end();
    }
  });

  it('keeps many queued queries in order', async () => {
    const client = await gw.connect(database);
    try {
      const results = await Promise.all(
        Array.from({ length: 200 }, (_, i) =>
          i % 2 === 0 ? client.query('SELECT $1::int AS i', [i]) : client.query(`SELECT ${i} AS i`),
        ),
      );
      expect(results.map((r) => Number(r.rows[0].i))).toEqual(
        Array.from({ length: 200 }, (_, i) => i),
      );
    } finally {
      await client.end();
    }
  });

  it('refuses a denied statement with 42501, the reasons and the decision id', async () => {
    const client = await gw.connect(database);
    try {
      const err = await client.query('SELECT * FROM secrets').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(Error);
      expect((err as pg.DatabaseError).code).toBe('42501');
      expect((err as Error).message).toMatch(/secrets are off limits \(decision d-[0-9a-f-]+\)/);
      // The session stays usable.
      const { rows } = await client.query('SELECT 1 AS one');
      expect(rows[0].one).toBe(1);
      const ext = await client.query('SELECT * FROM secrets WHERE id = $1', [1]).catch((e) => e);
      expect((ext as pg.DatabaseError).code).toBe('42501');
      expect((await client.query('SELECT $1::int AS two', [2])).rows[0].two).toBe(2);
    } finally {
      await client.end();
    }
  });

  it('runs none of a multi-statement string when one statement is refused', async () => {
    const client = await gw.connect(database);
    try {
      await client.query('CREATE TABLE IF NOT EXISTS multi (v int)');
      const err = await client
        .query('INSERT INTO multi VALUES (1); SELECT * FROM secrets; INSERT INTO multi VALUES (2)')
        .catch((e: unknown) => e);
      expect((err as pg.DatabaseError).code).toBe('42501');
      const { rows } = await client.query('SELECT count(*)::int AS n FROM multi');
      expect(rows[0].n).toBe(0);
    } finally {
      await client.end();
    }
  });

  it('aborts the transaction block after a refusal so COMMIT keeps nothing (simple)', async () => {
    const client = await gw.connect(database);
    try {
      await client.query('CREATE TABLE IF NOT EXISTS tx_simple (v int)');
      await client.query('BEGIN');
      await client.query('INSERT INTO tx_simple VALUES (1)');
      const err = await client.query('SELECT * FROM secrets').catch((e: unknown) => e);
      expect((err as pg.DatabaseError).code).toBe('42501');
      const next = await client.query('INSERT INTO tx_simple VALUES (2)').catch((e) => e);
      expect((next as pg.DatabaseError).code).toBe('25P02');
      const commit = await client.query('COMMIT');
      expect(commit.command).toBe('ROLLBACK');
      const { rows } = await client.query('SELECT count(*)::int AS n FROM tx_simple');
      expect(rows[0].n).toBe(0);
    } finally {
      await client.end();
    }
  });

  it('aborts the block after a refusal so COMMIT keeps nothing (extended)', async () => {
    const client = await gw.connect(database);
    try {
      await client.query('CREATE TABLE IF NOT EXISTS tx_ext (v int)');
      await client.query('BEGIN');
      await client.query('INSERT INTO tx_ext VALUES ($1)', [1]);
      const err = await client.query('SELECT * FROM secrets WHERE id = $1', [1]).catch((e) => e);
      expect((err as pg.DatabaseError).code).toBe('42501');
      await client.query('COMMIT');
      const direct = await directClient(database);
      const { rows } = await direct.query('SELECT count(*)::int AS n FROM tx_ext');
      await direct.end();
      expect(rows[0].n).toBe(0);
    } finally {
      await client.end();
    }
  });

  it('commits normally when nothing is refused, and refuses outside a block too', async () => {
    const client = await gw.connect(database);
    try {
      await client.query('CREATE TABLE IF NOT EXISTS tx_ok (v int)');
      const refused = await client.query('DROP TABLE tx_ok').catch((e: unknown) => e);
      expect((refused as pg.DatabaseError).code).toBe('42501');
      await client.query('BEGIN');
      await client.query('INSERT INTO tx_ok VALUES (1)');
      await client.query('COMMIT');
      const { rows } = await client.query('SELECT count(*)::int AS n FROM tx_ok');
      expect(rows[0].n).toBe(1);
    } finally {
      await client.end();
    }
  });

  it('decides statements after BEGIN in one string as inside the block', async () => {
    const client = await gw.connect(database);
    try {
      await client.query('CREATE TABLE IF NOT EXISTS tx_string (v int)');
      const before = gw.audit.of('decision').length;
      await client.query('BEGIN; INSERT INTO tx_string VALUES (1); COMMIT; SELECT 1');
      const decided = gw.audit.of('decision').slice(before);
      expect(decided.map((r) => r.in_transaction)).toEqual([false, true, true, false]);
    } finally {
      await client.end();
    }
  });

  it('audits session, decision, execution and response', async () => {
    const client = await gw.connect(database);
    await client.query('SELECT id FROM items WHERE id <= 3');
    await client.end();
    await new Promise((r) => setTimeout(r, 100));
    const decision = gw.audit
      .of('decision')
      .find((r) => r.text === 'SELECT id FROM items WHERE id <= 3');
    expect(decision, JSON.stringify(gw.audit.records.slice(-6))).toBeDefined();
    const statementId = decision!.statement_id;
    const response = gw.audit.of('response').find((r) => r.statement_id === statementId);
    expect(response).toMatchObject({ rows: 3 });
    expect(String(response!.sha256)).toMatch(/^[0-9a-f]{64}$/);
    const execution = gw.audit.of('execution').find((r) => r.statement_id === statementId);
    expect(execution).toMatchObject({ command_tag: 'SELECT 3', rows: 3 });
    expect(gw.audit.of('session').some((r) => r.event === 'end')).toBe(true);
  });
});
