// `enforcement: 'off'`: the plain-relay mode bench/pgbench.js measures as its baseline. Login is
// the gateway's own; after it bytes pass both ways with nothing decided or recorded per statement.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { functionDecider } from '../support/gateway-fixtures.js';
import { createDatabase, directClient } from '../support/pg.js';

let relay: TestGateway;
let enforcing: TestGateway;
let database: string;
let decisions = 0;

beforeAll(async () => {
  database = await createDatabase('gw_enforcement_off');
  const admin = await directClient(database);
  await admin.query('CREATE TABLE items (id int primary key, name text)');
  await admin.query("INSERT INTO items SELECT g, 'item ' || g FROM generate_series(1, 50) g");
  await admin.end();
  // Refuses everything, so any statement that reaches it in relay mode would fail the test.
  const decider = functionDecider(() => {
    decisions++;
    return { allow: false, reasons: ['nothing is allowed'] };
  });
  relay = await startTestGateway({ decider: () => decider, enforcement: 'off' });
  enforcing = await startTestGateway({ decider: () => decider });
});

afterAll(async () => {
  await relay?.close();
  await enforcing?.close();
});

describe('enforcement off', () => {
  it('relays simple, extended and prepared statements without deciding them', async () => {
    const client = await relay.connect(database);
    try {
      const { rows } = await client.query('SELECT count(*)::int AS n FROM items');
      expect(rows[0].n).toBe(50);
      const byId = await client.query('SELECT name FROM items WHERE id = $1', [7]);
      expect(byId.rows).toEqual([{ name: 'item 7' }]);
      for (const id of [1, 2]) {
        const named = await client.query({
          name: 'by_id',
          text: 'SELECT id FROM items WHERE id = $1',
          values: [id],
        });
        expect(named.rows).toEqual([{ id }]);
      }
    } finally {
      await client.end();
    }
    expect(decisions).toBe(0);
    expect(relay.audit.of('decision')).toEqual([]);
    expect(relay.audit.of('execution')).toEqual([]);
  });

  it('still authenticates clients and records their sessions', async () => {
    await expect(relay.connect(database, 'not-a-token')).rejects.toThrow();
    const client = await relay.connect(database);
    await client.query('SELECT 1');
    await client.end();
    await expect.poll(() => relay.audit.of('session').map((r) => r.event)).toContain('end');
    expect(relay.audit.of('session').map((r) => r.event)).toContain('start');
  });

  it('is off only where asked: the default gateway decides every statement', async () => {
    const before = decisions;
    const client = await enforcing.connect(database);
    try {
      await expect(client.query('SELECT count(*) FROM items')).rejects.toMatchObject({
        code: '42501',
      });
    } finally {
      await client.end();
    }
    expect(decisions).toBe(before + 1);
  });
});
