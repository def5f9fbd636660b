import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import type { MaskerFactory } from '../../src/masking/types.js';
import type { ApprovalBroker, HoldRequest } from '../../src/gateway/index.js';
import type { Decider } from '../../src/policy/types.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { functionDecider, MemoryAudit } from '../support/gateway-fixtures.js';
import { createDatabase, directClient } from '../support/pg.js';
import { RawClient } from '../support/gateway-raw.js';
import { cancelRequest } from '../../src/wire/index.js';

let database: string;
const open: TestGateway[] = [];

beforeAll(async () => {
  database = await createDatabase('gw_enforce');
  const admin = await directClient(database);
  await admin.query('CREATE TABLE cards (id int, holder text, pan text)');
  await admin.query(
    "INSERT INTO cards VALUES (1, 'ann', '4111111111111111'), (2, 'bob', '5500000000000004')",
  );
  await admin.query('CREATE TABLE notes (v int)');
  await admin.end();
});

afterAll(async () => {
  await Promise.all(open.map((g) => g.close()));
});

async function gateway(options: Parameters<typeof startTestGateway>[0]): Promise<TestGateway> {
  const gw = await startTestGateway(options);
  open.push(gw);
  return gw;
}

/** Replaces text values of columns whose field name is masked with `****`. */
const redactingMasker: MaskerFactory = ({ fields, masks, columnName }) => {
  const masked = fields.map((f) => {
    const qualified = columnName(f.tableOid, f.columnAttr);
    return qualified !== undefined && qualified in masks;
  });
  let values = 0;
  return {
    active: masked.some(Boolean),
    transformRow(message: Buffer): Buffer {
      const count = message.readInt16BE(5);
      const parts: Buffer[] = [];
      let offset = 7;
      for (let i = 0; i < count; i++) {
        const length = message.readInt32BE(offset);
        const value = length < 0 ? null : message.subarray(offset + 4, offset + 4 + length);
        offset += 4 + Math.max(length, 0);
        const out = masked[i] && value ? Buffer.from('****') : value;
        if (masked[i] && value) values++;
        const len = Buffer.alloc(4);
        len.writeInt32BE(out ? out.length : -1);
        parts.push(len, out ?? Buffer.alloc(0));
      }
      const body = Buffer.concat(parts);
      const head = Buffer.alloc(7);
      head[0] = 0x44;
      head.writeInt32BE(6 + body.length, 1);
      head.writeInt16BE(count, 5);
      return Buffer.concat([head, body]);
    },
    stats: () => ({
      columns: [{ column: 'public.cards.pan', method: 'redact', values }],
      backstop: 0,
    }),
  };
};

const maskCards = functionDecider((input) =>
  input.statement.tables.some((t) => t.name === 'cards')
    ? { mask: { 'public.cards.pan': 'redact' }, reasons: ['pan masked'] }
    : {},
);

describe('masking', () => {
  it('masks the columns the decision names, in simple and extended protocol', async () => {
    const gw = await gateway({ decider: () => maskCards, masker: redactingMasker });
    const client = await gw.connect(database);
    try {
      const simple = await client.query('SELECT id, holder, pan FROM cards ORDER BY id');
      expect(simple.rows).toEqual([
        { id: 1, holder: 'ann', pan: '****' },
        { id: 2, holder: 'bob', pan: '****' },
      ]);
      const extended = await client.query('SELECT pan, holder FROM cards WHERE id = $1', [2]);
      expect(extended.rows).toEqual([{ pan: '****', holder: 'bob' }]);
      const named = await client.query({
        name: 'cards_by_id',
        text: 'SELECT pan FROM cards WHERE id = $1',
        values: [1],
      });
      expect(named.rows).toEqual([{ pan: '****' }]);
      const other = await client.query('SELECT 41 + 1 AS answer');
      expect(other.rows).toEqual([{ answer: 42 }]);
    } finally {
      await client.end();
    }
    await new Promise((r) => setTimeout(r, 50));
    const response = gw.audit.of('response').find((r) => r.masked);
    expect(response?.masked).toMatchObject({ columns: [{ column: 'public.cards.pan' }] });
  });

  it('masks a prepared statement once a new bundle starts masking it', async () => {
    let current: Decider = functionDecider();
    const gw = await gateway({ decider: () => current, masker: redactingMasker });
    const client = await gw.connect(database);
    const run = () =>
      client.query({ name: 'pan_of', text: 'SELECT pan FROM cards WHERE id = $1', values: [1] });
    try {
      expect((await run()).rows).toEqual([{ pan: '4111111111111111' }]);
      current = maskCards;
      expect((await run()).rows).toEqual([{ pan: '****' }]);
    } finally {
      await client.end();
    }
  });

  it('refuses a masking decision when no masker is configured (fail closed)', async () => {
    const gw = await gateway({ decider: () => maskCards });
    const client = await gw.connect(database);
    try {
      const err = await client.query('SELECT pan FROM cards').catch((e: unknown) => e);
      expect((err as pg.DatabaseError).code).toBe('42501');
      expect((err as Error).message).toMatch(/masking is not configured/);
    } finally {
      await client.end();
    }
  });
});

describe('row limits', () => {
  it('ends the statement, not the session, with 54000 past the row limit', async () => {
    const limited = functionDecider(() => ({ rowLimit: 5 }));
    const gw = await gateway({ decider: () => limited });
    const client = await gw.connect(database);
    const small = await client.query('SELECT g FROM generate_series(1, 5) g');
    expect(small.rowCount).toBe(5);
    // Finished upstream before the cancel could matter: a SELECT, nothing after it.
    const quick = await client
      .query('SELECT g FROM generate_series(1, 10) g')
      .catch((e: unknown) => e);
    expect((quick as pg.DatabaseError).code).toBe('54000');
    expect((quick as pg.DatabaseError).message).toMatch(/row limit of 5 exceeded \(decision d-/);
    // Still running upstream: cancelled there.
    const big = await client
      .query('SELECT g FROM generate_series(1, 5000000) g')
      .catch((e: unknown) => e);
    expect((big as pg.DatabaseError).code).toBe('54000');
    expect((await client.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
    // The same through the extended protocol.
    const extended = await client
      .query('SELECT g FROM generate_series(1, $1::int) g', [5000000])
      .catch((e: unknown) => e);
    expect((extended as pg.DatabaseError).code).toBe('54000');
    expect((await client.query('SELECT $1::int AS one', [1])).rows).toEqual([{ one: 1 }]);
    await client.end();
  });

  it('aborts the transaction block, as the client was told', async () => {
    const limited = functionDecider(() => ({ rowLimit: 5 }));
    const gw = await gateway({ decider: () => limited });
    const client = await gw.connect(database);
    await client.query('BEGIN');
    // Inserted, then rolled back with the block: the audit test below counts notes.
    await client.query('INSERT INTO notes VALUES (77)');
    const err = await client
      .query('SELECT g FROM generate_series(1, 5000000) g')
      .catch((e: unknown) => e);
    expect((err as pg.DatabaseError).code).toBe('54000');
    const commit = await client.query('COMMIT');
    expect(commit.command).toBe('ROLLBACK');
    const admin = await directClient(database);
    expect((await admin.query('SELECT count(*)::int AS n FROM notes WHERE v = 77')).rows).toEqual([
      { n: 0 },
    ]);
    await admin.end();
    await client.end();
  });

  it('ends the session when the statement over the limit wrote and could not be stopped', async () => {
    const limited = functionDecider(() => ({ rowLimit: 2 }));
    const gw = await gateway({ decider: () => limited });
    const client = await gw.connect(database);
    const ended = new Promise<Error>((resolve) => client.on('error', resolve));
    await client.query('CREATE TEMP TABLE written (v int)');
    const err = await client
      .query('INSERT INTO written SELECT g FROM generate_series(1, 3) g RETURNING v')
      .catch((e: unknown) => e);
    expect((err as pg.DatabaseError).code).toBe('54000');
    expect(await ended).toBeInstanceOf(Error);
  });
});

describe('audit', () => {
  it('refuses statements when the decision cannot be recorded', async () => {
    const audit = new MemoryAudit();
    const gw = await gateway({ audit });
    const client = await gw.connect(database);
    try {
      audit.failing = true;
      const err = await client.query('INSERT INTO notes VALUES (1)').catch((e: unknown) => e);
      expect((err as pg.DatabaseError).code).toBe('42501');
      expect((err as Error).message).toMatch(/audit/);
      audit.failing = false;
      const { rows } = await client.query('SELECT count(*)::int AS n FROM notes');
      expect(rows[0].n).toBe(0);
    } finally {
      await client.end();
    }
  });
});

describe('decision reuse', () => {
  it('reuses a Parse decision, and decides again when the transaction state changes', async () => {
    const decider = functionDecider();
    const gw = await gateway({ decider: () => decider });
    const client = await gw.connect(database);
    const run = () =>
      client.query({ name: 'notes_count', text: 'SELECT count(*) FROM notes', values: [] });
    try {
      await run();
      await run();
      expect(decider.inputs.filter((i) => i.statement.text.includes('notes'))).toHaveLength(1);
      await client.query('BEGIN');
      await run();
      await client.query('COMMIT');
      const inputs = decider.inputs.filter((i) => i.statement.text.includes('notes'));
      expect(inputs.map((i) => i.statement.in_transaction)).toEqual([false, true]);
      expect(inputs.every((i) => i.statement.protocol === 'extended')).toBe(true);
    } finally {
      await client.end();
    }
  });

  it('decides again at Execute after the bundle changed (hot swap), and can refuse', async () => {
    let current: Decider = functionDecider();
    const gw = await gateway({ decider: () => current });
    const client = await gw.connect(database);
    const run = () =>
      client.query({ name: 'notes_sum', text: 'SELECT sum(v) FROM notes', values: [] });
    try {
      await run();
      current = functionDecider(() => ({ allow: false, reasons: ['new bundle says no'] }));
      const err = await run().catch((e: unknown) => e);
      expect((err as Error).message).toMatch(/new bundle says no/);
      expect((await client.query('SELECT 1 AS ok').catch((e) => e)) instanceof Error).toBe(true);
    } finally {
      await client.end();
    }
  });
});

describe('approvals', () => {
  function needsApproval() {
    return functionDecider((input) =>
      input.statement.kind === 'delete' && input.approval === null
        ? { approval: { reason: 'bulk delete', approvers: ['dba'] }, reasons: ['needs a DBA'] }
        : {},
    );
  }

  it('holds a statement, tells the client where to approve, runs it once approved', async () => {
    const holds: HoldRequest[] = [];
    const approvals: ApprovalBroker = {
      async hold(request) {
        holds.push(request);
        return {
          id: 'req-1',
          url: 'https://approvals.invalid/req-1',
          outcome: new Promise((resolve) =>
            setTimeout(
              () =>
                resolve({
                  status: 'approved',
                  approvals: [{ approver: 'dba-ann', at: new Date().toISOString(), comment: 'ok' }],
                }),
              50,
            ),
          ),
        };
      },
    };
    const decider = needsApproval();
    const gw = await gateway({ decider: () => decider, approvals });
    const client = await gw.connect(database);
    const notices: string[] = [];
    client.on('notice', (n) => notices.push(`${n.message} ${n.detail ?? ''}`));
    try {
      const result = await client.query('DELETE FROM notes');
      expect(result.command).toBe('DELETE');
      expect(holds[0]).toMatchObject({ request: { reason: 'bulk delete' }, subject: 'ci-job' });
      expect(notices.join()).toMatch(/req-1.*approvals\.invalid\/req-1/);
      const again = decider.inputs.find((i) => i.approval !== null);
      expect(again?.approval?.[0]?.approver).toBe('dba-ann');
    } finally {
      await client.end();
    }
  });

  it('ends the wait for approval on a CancelRequest with 57014', async () => {
    const approvals: ApprovalBroker = {
      async hold() {
        return {
          id: 'req-3',
          url: 'https://approvals.invalid/req-3',
          outcome: new Promise(() => {}),
        };
      },
    };
    const gw = await gateway({ decider: () => needsApproval(), approvals });
    const client = await gw.connect(database);
    try {
      const held = client.query('DELETE FROM notes').catch((e: unknown) => e);
      await new Promise((r) => setTimeout(r, 100));
      // A CancelRequest with the key the gateway gave this session.
      const key = client as unknown as { processID: number; secretKey: number };
      const secret = Buffer.alloc(4);
      secret.writeInt32BE(key.secretKey);
      const raw = await RawClient.connect(gw.gateway.address.port);
      raw.write(cancelRequest(key.processID, secret));
      await raw.closedByServer();
      const err = await held;
      expect((err as pg.DatabaseError).code).toBe('57014');
      expect((await client.query('SELECT 1 AS ok')).rows[0].ok).toBe(1);
    } finally {
      await client.end();
    }
  });

  it('answers an approval that expired with 57014', async () => {
    const approvals: ApprovalBroker = {
      async hold() {
        return {
          id: 'req-4',
          url: 'https://approvals.invalid/req-4',
          outcome: Promise.resolve({ status: 'timeout' as const }),
        };
      },
    };
    const gw = await gateway({ decider: () => needsApproval(), approvals });
    const client = await gw.connect(database);
    try {
      const err = await client.query('DELETE FROM notes').catch((e: unknown) => e);
      expect((err as pg.DatabaseError).code).toBe('57014');
      expect((err as Error).message).toMatch(/approval expired \(request req-4/);
    } finally {
      await client.end();
    }
  });

  it('withdraws the request when the waiting client goes away', async () => {
    let withdrawn = 0;
    const approvals: ApprovalBroker = {
      async hold() {
        return {
          id: 'req-5',
          url: 'https://approvals.invalid/req-5',
          outcome: new Promise(() => {}),
          cancel: () => void withdrawn++,
        };
      },
    };
    const gw = await gateway({ decider: () => needsApproval(), approvals });
    const client = await gw.connect(database);
    client.on('error', () => {});
    const held = client.query('DELETE FROM notes').catch(() => undefined);
    await new Promise((r) => setTimeout(r, 100));
    (
      client as unknown as { connection: { stream: { destroy(): void } } }
    ).connection.stream.destroy();
    await held;
    for (let i = 0; i < 50 && withdrawn === 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(withdrawn).toBe(1);
  });

  it('refuses a held statement that is denied, or when approvals are not configured', async () => {
    const approvals: ApprovalBroker = {
      async hold() {
        return {
          id: 'req-2',
          url: 'https://approvals.invalid/req-2',
          outcome: Promise.resolve({ status: 'denied' as const, reason: 'not today' }),
        };
      },
    };
    const denied = await gateway({ decider: () => needsApproval(), approvals });
    const client = await denied.connect(database);
    const err = await client.query('DELETE FROM notes').catch((e: unknown) => e);
    expect((err as pg.DatabaseError).code).toBe('42501');
    expect((err as Error).message).toMatch(/not today/);
    await client.end();

    const none = await gateway({ decider: () => needsApproval() });
    const other = await none.connect(database);
    const err2 = await other.query('DELETE FROM notes').catch((e: unknown) => e);
    expect((err2 as Error).message).toMatch(/approvals are not configured/);
    await other.end();
  });
});
