import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { statementKey } from '../../src/gateway/statement-key.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { functionDecider } from '../support/gateway-fixtures.js';
import { createDatabase, directClient } from '../support/pg.js';

describe('statementKey', () => {
  it('gives statements differing only in compared values one key', () => {
    const a = statementKey('SELECT abalance FROM t WHERE aid = 17;');
    expect(a).toBe('SELECT abalance FROM t WHERE aid = ?;');
    expect(statementKey('SELECT abalance FROM t WHERE aid = 424242;')).toBe(a);
    expect(statementKey("SELECT 1 FROM t WHERE n >= 'it''s' AND m <> 1.5e-3")).toBe(
      'SELECT 1 FROM t WHERE n >= ? AND m <> ?',
    );
  });

  it('keeps literals that can change the facts', () => {
    for (const [x, y] of [
      ['SELECT a, b FROM t ORDER BY 1', 'SELECT a, b FROM t ORDER BY 2'],
      ['SELECT a FROM t LIMIT 1', 'SELECT a FROM t LIMIT 1000000'],
      ["SELECT nextval('a')", "SELECT nextval('b')"],
      ["COPY t TO '/tmp/a'", "COPY t TO '/tmp/b'"],
      ['SELECT a[1] FROM t', 'SELECT a[2] FROM t'],
      ['SELECT 1 FROM t WHERE a = -1', 'SELECT 1 FROM t WHERE a = -2'],
    ]) {
      expect(statementKey(x!)).not.toBe(statementKey(y!));
    }
  });

  it('does not look into identifiers and comments', () => {
    expect(statementKey('SELECT "a = 1" FROM t')).toBe('SELECT "a = 1" FROM t');
    expect(statementKey('SELECT 1 -- a = 1\nFROM t /* b = 2 */')).toBe(
      'SELECT 1 -- a = 1\nFROM t /* b = 2 */',
    );
  });

  it('gives up on text it cannot scan with certainty', () => {
    expect(statementKey('SELECT $$a = 1$$')).toBeNull();
    expect(statementKey("SELECT 1 WHERE a = E'x\\' OR 1 = 1'")).toBeNull();
    expect(statementKey("SELECT 'unclosed")).toBeNull();
    expect(statementKey('SELECT /* /* nested */ */ 1')).toBeNull();
    expect(statementKey(`SELECT 1 WHERE a = 1${' '.repeat(5000)}`)).toBeNull();
  });
});

describe('decision cache', () => {
  let database: string;
  const open: TestGateway[] = [];

  beforeAll(async () => {
    database = await createDatabase('gw_cache');
    const admin = await directClient(database);
    await admin.query('CREATE TABLE items (id int, pan text)');
    await admin.query("INSERT INTO items VALUES (1, 'a'), (2, 'b'), (3, 'c')");
    await admin.end();
  });

  afterAll(async () => {
    await Promise.all(open.map((g) => g.close()));
  });

  async function start(
    decider = functionDecider(),
    extra: Parameters<typeof startTestGateway>[0] = {},
  ) {
    const gw = await startTestGateway({ decider: () => decider, ...extra });
    open.push(gw);
    return { gw, decider, client: await gw.connect(database) };
  }

  it('reuses a decision for other compared values, and records each as a decision', async () => {
    const { gw, decider, client } = await start();
    const one = await client.query('SELECT id FROM items WHERE id = 1');
    const two = await client.query('SELECT id FROM items WHERE id = 2');
    const three = await client.query('SELECT id FROM items WHERE id = $1', [3]);
    const four = await client.query('SELECT id FROM items WHERE id = $1', [1]);
    expect([one, two, three, four].map((r) => r.rows[0]?.id)).toEqual([1, 2, 3, 1]);
    // One evaluation per protocol; the repeats came from the cache.
    expect(decider.inputs.map((i) => i.statement.protocol)).toEqual(['simple', 'extended']);
    const decisions = gw.audit.of('decision');
    expect(decisions).toHaveLength(4);
    const first = decisions[0]!.decision as { id: string };
    const second = decisions[1]!;
    expect(second.text).toBe('SELECT id FROM items WHERE id = 2');
    expect(second.cached_from).toBe(first.id);
    expect((second.decision as { id: string }).id).not.toBe(first.id);
    expect(second.statement_id).not.toBe(decisions[0]!.statement_id);
    // Execution and response records name the decision that let each statement run.
    const executions = gw.audit.of('execution').map((r) => r.decision_id);
    expect(executions).toContain((second.decision as { id: string }).id);
    await client.end();
  });

  it('decides afresh inside a transaction block, after a bundle swap and for a LIMIT', async () => {
    let current = functionDecider();
    const gw = await startTestGateway({ decider: () => current });
    open.push(gw);
    const client = await gw.connect(database);
    const first = current;
    await client.query('SELECT id FROM items WHERE id = 1');
    await client.query('BEGIN');
    await client.query('SELECT id FROM items WHERE id = 2');
    await client.query('COMMIT');
    expect(first.inputs.map((i) => i.statement.in_transaction)).toEqual([false, false, true, true]);
    current = functionDecider();
    await client.query('SELECT id FROM items WHERE id = 3');
    expect(current.inputs).toHaveLength(1);
    await client.query('SELECT id FROM items LIMIT 1');
    await client.query('SELECT id FROM items LIMIT 2');
    expect(current.inputs).toHaveLength(3);
    await client.end();
  });

  it('never caches a refusal', async () => {
    const { decider, client } = await start(functionDecider(() => ({ allow: false })));
    for (const id of [1, 2]) {
      await expect(client.query(`SELECT id FROM items WHERE id = ${id}`)).rejects.toMatchObject({
        code: '42501',
      });
    }
    expect(decider.inputs).toHaveLength(2);
    await client.end();
  });

  it('masks card numbers in the recorded text of a reused decision', async () => {
    const { gw, decider, client } = await start();
    await client.query("SELECT id FROM items WHERE pan = 'x'");
    await client.query("SELECT id FROM items WHERE pan = '4111111111111111'");
    expect(decider.inputs).toHaveLength(1);
    const texts = gw.audit.of('decision').map((r) => r.text as string);
    expect(texts[1]).not.toContain('4111111111111111');
    expect(texts[1]).toMatch(/^SELECT id FROM items WHERE pan = /);
    await client.end();
  });

  it('can be turned off', async () => {
    const { decider, client } = await start(functionDecider(), { decisionCache: false });
    await client.query('SELECT id FROM items WHERE id = 1');
    await client.query('SELECT id FROM items WHERE id = 2');
    expect(decider.inputs).toHaveLength(2);
    await client.end();
  });
});
