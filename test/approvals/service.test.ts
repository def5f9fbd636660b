import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  ApprovalService,
  memoryStore,
  type ApprovalEvent,
  openFileStore,
  openPostgresStore,
  versionOf,
  type ApprovalStore,
} from '../../src/approvals/index.js';
import type { HoldRequest } from '../../src/gateway/options.js';
import type { Identity } from '../../src/identity/types.js';
import { createDatabase, testServer } from '../support/pg.js';

function person(subject: string, groups: string[]): Identity {
  return { subject, issuer: 'https://idp.test', groups, claims: {}, kind: 'oidc' };
}

function held(overrides: Partial<HoldRequest['request']> = {}): HoldRequest {
  return {
    request: { reason: 'bulk export', approvers: ['approvers'], ...overrides },
    decisionId: 'd-1',
    sessionId: 'c-1',
    statementId: 's-1',
    subject: 'ci-job',
    groups: ['etl'],
    database: 'payments',
    text: "SELECT * FROM cards WHERE pan = '4111111111111111'",
    fingerprint: 'fp-1',
    reasons: ['held'],
  };
}

const alice = person('alice', ['approvers']);
const bob = person('bob', ['approvers']);

function service(store: ApprovalStore = memoryStore(), instance = 'gw-1') {
  return ApprovalService.start({ store, instance, publicUrl: 'http://x' });
}

describe('approval service', () => {
  it('approves, passing the approvals to the waiting statement', async () => {
    const approvals = await service();
    const ticket = await approvals.hold(held());
    expect((await approvals.get(ticket.id))!.text).not.toContain('4111111111111111');
    await approvals.decide(ticket.id, alice, 'approve', 'fine once');
    const outcome = await ticket.outcome;
    expect(outcome).toMatchObject({ status: 'approved', approvals: [{ approver: 'alice' }] });
  });

  it('denies with the approver named', async () => {
    const approvals = await service();
    const ticket = await approvals.hold(held());
    await approvals.decide(ticket.id, alice, 'deny', 'no');
    expect(await ticket.outcome).toEqual({ status: 'denied', reason: 'denied by alice: no' });
  });

  it('refuses self-approval and approvers outside the groups', async () => {
    const approvals = await service();
    const ticket = await approvals.hold(held());
    await expect(
      approvals.decide(ticket.id, person('ci-job', ['approvers']), 'approve'),
    ).rejects.toThrow(/own request/);
    await expect(approvals.decide(ticket.id, person('eve', ['etl']), 'approve')).rejects.toThrow(
      /only members of approvers/,
    );
    expect((await approvals.get(ticket.id))!.status).toBe('pending');
  });

  it('needs a quorum of distinct approvers', async () => {
    const approvals = await service();
    const ticket = await approvals.hold(held({ quorum: 2 }));
    await approvals.decide(ticket.id, alice, 'approve');
    await expect(approvals.decide(ticket.id, alice, 'approve')).rejects.toThrow(/already decided/);
    expect((await approvals.get(ticket.id))!.status).toBe('pending');
    await approvals.decide(ticket.id, bob, 'approve');
    expect((await ticket.outcome).status).toBe('approved');
  });

  it('keeps one of two verdicts given at once, and an expiry loses to a verdict', async () => {
    const store = memoryStore();
    const approvals = await service(store);
    const ticket = await approvals.hold(held());
    const results = await Promise.allSettled([
      approvals.decide(ticket.id, alice, 'deny', 'no'),
      approvals.decide(ticket.id, bob, 'approve', 'yes'),
    ]);
    expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
    expect((await approvals.get(ticket.id))!.verdicts).toHaveLength(1);
    expect(await ticket.outcome).toEqual({ status: 'denied', reason: 'denied by alice: no' });

    // A write against a version that has changed since it was read is refused.
    const other = await approvals.hold({ ...held(), fingerprint: 'fp-late' });
    const read = (await store.getRequest(other.id))!;
    await approvals.decide(other.id, alice, 'approve');
    expect(await store.putRequest({ ...read, status: 'expired' }, versionOf(read))).toBe(false);
    expect((await store.getRequest(other.id))!.status).toBe('approved');
  });

  it('times out', async () => {
    const approvals = await service();
    const ticket = await approvals.hold(held({ expires_in: '50ms' }));
    expect(await ticket.outcome).toEqual({ status: 'timeout' });
    expect((await approvals.get(ticket.id))!.status).toBe('expired');
    await expect(approvals.decide(ticket.id, alice, 'approve')).rejects.toThrow(/not pending/);
  });

  it('opens a grant that lets the same statement through until revoked', async () => {
    const approvals = await service();
    const first = await approvals.hold(held({ grant_ttl: '1h' }));
    await approvals.decide(first.id, alice, 'approve');
    await first.outcome;
    const again = await approvals.hold(held({ grant_ttl: '1h' }));
    expect((await again.outcome).status).toBe('approved');
    // Other constants in the same shape are another statement: no grant for it.
    const bigger = await approvals.hold({
      ...held({ grant_ttl: '1h' }),
      text: "SELECT * FROM cards WHERE pan = '4111111111111111' LIMIT 99999999",
    });
    expect((await approvals.get(bigger.id))!.status).toBe('pending');
    bigger.cancel();
    // The same subject name from another issuer is another identity: no grant for it.
    const stranger = await approvals.hold({
      ...held({ grant_ttl: '1h' }),
      issuer: 'https://other',
    });
    expect((await approvals.get(stranger.id))!.status).toBe('pending');
    stranger.cancel();
    const [grant] = await approvals.grants();
    expect(await approvals.revokeGrant(grant!.id, 'alice')).toBe(true);
    const third = await approvals.hold(held());
    expect((await approvals.get(third.id))!.status).toBe('pending');
    third.cancel();
    expect(await third.outcome).toEqual({ status: 'denied', reason: 'request cancelled' });
  });

  it('lets a grant lapse at its grant_ttl: the same statement waits again', async () => {
    const approvals = await service();
    const first = await approvals.hold(held({ grant_ttl: '400ms' }));
    await approvals.decide(first.id, alice, 'approve');
    await first.outcome;
    const reused = await approvals.hold(held());
    expect((await reused.outcome).status).toBe('approved');
    // Another identity, or another statement, never rides on the grant.
    const other = await approvals.hold({ ...held(), subject: 'other-job' });
    const otherStatement = await approvals.hold({ ...held(), fingerprint: 'fp-other' });
    for (const t of [other, otherStatement]) {
      expect((await approvals.get(t.id))!.status).toBe('pending');
      t.cancel();
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(await approvals.grants()).toEqual([]);
    const later = await approvals.hold(held());
    expect((await approvals.get(later.id))!.status).toBe('pending');
    later.cancel();
    await later.outcome;
  });

  it('reports every step as an event linked to the session, for the audit trail', async () => {
    const events: ApprovalEvent[] = [];
    const approvals = await ApprovalService.start({
      store: memoryStore(),
      instance: 'gw-1',
      publicUrl: 'http://x',
      onEvent: (e) => events.push(e),
    });
    const granted = await approvals.hold(held({ grant_ttl: '1h' }));
    await approvals.decide(granted.id, alice, 'approve', 'nightly export, card 4111111111111111');
    await granted.outcome;
    const reused = await approvals.hold({ ...held(), sessionId: 'c-2' });
    await reused.outcome;
    const [grant] = await approvals.grants();
    await approvals.revokeGrant(grant!.id, 'bob');
    const denied = await approvals.hold({ ...held(), sessionId: 'c-3' });
    await approvals.decide(denied.id, bob, 'deny', 'not today');
    const timedOut = await approvals.hold({ ...held({ expires_in: '50ms' }), sessionId: 'c-4' });
    await timedOut.outcome;
    const cancelled = await approvals.hold({ ...held(), sessionId: 'c-5' });
    cancelled.cancel();
    await cancelled.outcome;

    expect(events).toEqual([
      expect.objectContaining({ event: 'requested', request_id: granted.id, session_id: 'c-1' }),
      expect.objectContaining({
        event: 'approved',
        request_id: granted.id,
        session_id: 'c-1',
        actor: 'alice',
        comment: expect.stringContaining('nightly export'),
      }),
      expect.objectContaining({ event: 'grant_used', grant_id: grant!.id, session_id: 'c-2' }),
      expect.objectContaining({ event: 'grant_revoked', grant_id: grant!.id, actor: 'bob' }),
      expect.objectContaining({ event: 'requested', session_id: 'c-3' }),
      expect.objectContaining({ event: 'denied', session_id: 'c-3', comment: 'not today' }),
      expect.objectContaining({ event: 'requested', session_id: 'c-4' }),
      expect.objectContaining({ event: 'expired', request_id: timedOut.id, session_id: 'c-4' }),
      expect.objectContaining({ event: 'requested', session_id: 'c-5' }),
      expect.objectContaining({ event: 'cancelled', request_id: cancelled.id, session_id: 'c-5' }),
    ]);
    expect(JSON.stringify(events)).not.toContain('4111111111111111');
  });

  it('marks pending requests abandoned after a restart and keeps grants', async () => {
    const file = path.join(await mkdtemp(path.join(os.tmpdir(), 'approvals-')), 'db.json');
    const before = await service(await openFileStore(file));
    const granted = await before.hold(held({ grant_ttl: '1h' }));
    await before.decide(granted.id, alice, 'approve');
    const pending = await before.hold({ ...held(), fingerprint: 'fp-2' });
    const after = await service(await openFileStore(file));
    expect((await after.get(pending.id))!.status).toBe('abandoned');
    expect(await after.grants()).toHaveLength(1);
  });
});

describe('approvals shared by two gateway instances through PostgreSQL', () => {
  it('releases the statement held by instance B when A approves it', async () => {
    const database = await createDatabase('approvals');
    const connection = { ...testServer(), database };
    const a = await service(await openPostgresStore(connection), 'gw-a');
    const b = await service(await openPostgresStore(connection), 'gw-b');
    try {
      const ticket = await b.hold(held());
      expect((await a.list('pending')).map((r) => r.id)).toEqual([ticket.id]);
      await a.decide(ticket.id, alice, 'approve', 'from A');
      expect(await ticket.outcome).toMatchObject({
        status: 'approved',
        approvals: [{ approver: 'alice', comment: 'from A' }],
      });
      const denied = await b.hold({ ...held(), fingerprint: 'fp-3' });
      await a.decide(denied.id, bob, 'deny');
      expect((await denied.outcome).status).toBe('denied');
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('keeps exactly one of two verdicts given at the same moment on two instances', async () => {
    const database = await createDatabase('approvals');
    const connection = { ...testServer(), database };
    const a = await service(await openPostgresStore(connection), 'gw-a');
    const b = await service(await openPostgresStore(connection), 'gw-b');
    try {
      for (let round = 0; round < 5; round++) {
        const ticket = await b.hold({ ...held(), fingerprint: `fp-race-${round}` });
        const results = await Promise.allSettled([
          a.decide(ticket.id, alice, 'approve', 'from A'),
          b.decide(ticket.id, bob, 'deny', 'from B'),
        ]);
        const kept = results.filter((r) => r.status === 'fulfilled');
        expect(kept).toHaveLength(1);
        const lost = results.find((r) => r.status === 'rejected');
        expect(String(lost?.reason)).toMatch(/not pending|changed while it was being decided/);
        const stored = (await a.get(ticket.id))!;
        expect(stored.verdicts).toHaveLength(1);
        const winner = stored.verdicts[0]!;
        expect(stored.status).toBe(winner.verdict === 'approve' ? 'approved' : 'denied');
        expect((await ticket.outcome).status).toBe(stored.status);
      }
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('abandons only the restarted instance’s pending requests', async () => {
    const database = await createDatabase('approvals');
    const connection = { ...testServer(), database };
    const a = await service(await openPostgresStore(connection), 'gw-a');
    const b = await service(await openPostgresStore(connection), 'gw-b');
    const fromA = await a.hold(held());
    const fromB = await b.hold({ ...held(), fingerprint: 'fp-2' });
    const restartedA = await service(await openPostgresStore(connection), 'gw-a');
    try {
      expect((await restartedA.get(fromA.id))!.status).toBe('abandoned');
      expect((await restartedA.get(fromB.id))!.status).toBe('pending');
    } finally {
      for (const s of [a, b, restartedA]) await s.close();
    }
  });
});
