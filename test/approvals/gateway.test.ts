// The approvals service behind a real gateway and PostgreSQL: the statement held, approved
// through the service, decided again with input.approval, and refused when the policy asks a
// second time.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type pg from 'pg';
import { ApprovalService, memoryStore, type ApprovalEvent } from '../../src/approvals/index.js';
import type { Identity } from '../../src/identity/types.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { functionDecider, MemoryAudit } from '../support/gateway-fixtures.js';
import { createDatabase, directClient } from '../support/pg.js';

let database: string;
const open: TestGateway[] = [];
const dba: Identity = {
  subject: 'dba-ann',
  issuer: 'https://idp.test',
  groups: ['dba'],
  claims: {},
  kind: 'oidc',
};

beforeAll(async () => {
  database = await createDatabase('approvals_gw');
  const admin = await directClient(database);
  await admin.query('CREATE TABLE notes (v int)');
  await admin.end();
});

afterAll(async () => {
  await Promise.all(open.map((g) => g.close()));
});

async function rows(): Promise<number> {
  const admin = await directClient(database);
  try {
    return Number((await admin.query('SELECT count(*) AS n FROM notes')).rows[0].n);
  } finally {
    await admin.end();
  }
}

/** Approves the first pending request once it appears. */
async function approveWhenPending(approvals: ApprovalService, comment: string): Promise<void> {
  for (;;) {
    const [pending] = await approvals.list('pending');
    if (pending) {
      await approvals.decide(pending.id, dba, 'approve', comment);
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('approvals through the gateway', () => {
  async function setup(askAgain: boolean, grantTtl?: string) {
    const events: ApprovalEvent[] = [];
    const approvals = await ApprovalService.start({
      store: memoryStore(),
      instance: 'gw-a',
      publicUrl: 'https://approvals.invalid',
      onEvent: (e) => events.push(e),
    });
    const decider = functionDecider((input) =>
      input.statement.kind === 'insert' && (askAgain || input.approval === null)
        ? {
            approval: { reason: 'data fix', approvers: ['dba'], grant_ttl: grantTtl },
            reasons: ['needs a DBA'],
          }
        : {},
    );
    const audit = new MemoryAudit();
    const gw = await startTestGateway({ decider: () => decider, approvals, audit });
    open.push(gw);
    const client: pg.Client = await gw.connect(database);
    return { approvals, decider, audit, client, events };
  }

  it('runs the statement once approved, with the approvals in the input', async () => {
    const { approvals, decider, client, events } = await setup(false);
    const before = await rows();
    try {
      const [result] = await Promise.all([
        client.query('INSERT INTO notes VALUES (1)'),
        approveWhenPending(approvals, 'fix approved'),
      ]);
      expect(result.rowCount).toBe(1);
      expect(await rows()).toBe(before + 1);
      const again = decider.inputs.find((i) => i.approval !== null);
      expect(again?.approval).toEqual([
        { approver: 'dba-ann', at: expect.any(String), comment: 'fix approved' },
      ]);
      expect(events.map((e) => e.event)).toEqual(['requested', 'approved']);
      expect(events[0]!.session_id).toBe(events[1]!.session_id);
    } finally {
      await client.end();
    }
  });

  it('holds the same statement again right after an approval (no reuse of the decision)', async () => {
    const { approvals, client, events } = await setup(false);
    try {
      for (const comment of ['first', 'second']) {
        await Promise.all([
          client.query('INSERT INTO notes VALUES (4)'),
          approveWhenPending(approvals, comment),
        ]);
      }
      expect(events.map((e) => e.event)).toEqual([
        'requested',
        'approved',
        'requested',
        'approved',
      ]);
    } finally {
      await client.end();
    }
  });

  it('runs a statement a grant covers at once, and says so', async () => {
    const { approvals, client, events } = await setup(false, '1h');
    const notices: string[] = [];
    client.on('notice', (n) => notices.push(n.message ?? ''));
    try {
      await Promise.all([
        client.query('INSERT INTO notes VALUES (3)'),
        approveWhenPending(approvals, 'for the hour'),
      ]);
      expect(notices[0]).toMatch(/^statement held for approval: request /);
      await client.query('INSERT INTO notes VALUES (3)');
      expect(notices[1]).toMatch(/^statement runs under grant g-\S+, opened by request /);
      expect(events.map((e) => e.event)).toEqual(['requested', 'approved', 'grant_used']);
    } finally {
      await client.end();
    }
  });

  it('refuses the statement when the policy asks for approval again after approval', async () => {
    const { approvals, client, audit } = await setup(true);
    const before = await rows();
    try {
      const [err] = await Promise.all([
        client.query('INSERT INTO notes VALUES (2)').catch((e: unknown) => e),
        approveWhenPending(approvals, 'fine'),
      ]);
      expect((err as pg.DatabaseError).code).toBe('42501');
      expect((err as Error).message).toMatch(/approval asked twice/);
      expect(await rows()).toBe(before);
      // Both decisions are in the trail: the hold and the refusal after approval.
      const decisions = audit.records.filter((r) => r.kind === 'decision');
      expect(decisions.length).toBeGreaterThanOrEqual(2);
      // Only one request was made: the second ask did not hold the statement again.
      expect(await approvals.list()).toHaveLength(1);
    } finally {
      await client.end();
    }
  });
});
