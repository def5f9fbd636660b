import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ApprovalService, memoryStore, openFileStore } from '../../src/approvals/index.js';
import type { HoldRequest } from '../../src/gateway/options.js';
import type { Identity } from '../../src/identity/types.js';

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

describe('approval service', () => {
  it('approves, passing the approvals to the waiting statement', async () => {
    const service = new ApprovalService({ store: memoryStore(), publicUrl: 'http://x' });
    const ticket = await service.hold(held());
    expect(service.get(ticket.id)!.text).not.toContain('4111111111111111');
    await service.decide(ticket.id, alice, 'approve', 'fine once');
    const outcome = await ticket.outcome;
    expect(outcome).toMatchObject({ status: 'approved', approvals: [{ approver: 'alice' }] });
  });

  it('denies with the approver named', async () => {
    const service = new ApprovalService({ store: memoryStore(), publicUrl: 'http://x' });
    const ticket = await service.hold(held());
    await service.decide(ticket.id, alice, 'deny', 'no');
    expect(await ticket.outcome).toEqual({ status: 'denied', reason: 'denied by alice' });
  });

  it('refuses self-approval and approvers outside the groups', async () => {
    const service = new ApprovalService({ store: memoryStore(), publicUrl: 'http://x' });
    const ticket = await service.hold(held());
    await expect(
      service.decide(ticket.id, person('ci-job', ['approvers']), 'approve'),
    ).rejects.toThrow(/own request/);
    await expect(service.decide(ticket.id, person('eve', ['etl']), 'approve')).rejects.toThrow(
      /only members of approvers/,
    );
    expect(service.get(ticket.id)!.status).toBe('pending');
  });

  it('needs a quorum of distinct approvers', async () => {
    const service = new ApprovalService({ store: memoryStore(), publicUrl: 'http://x' });
    const ticket = await service.hold(held({ quorum: 2 }));
    await service.decide(ticket.id, alice, 'approve');
    await expect(service.decide(ticket.id, alice, 'approve')).rejects.toThrow(/already decided/);
    expect(service.get(ticket.id)!.status).toBe('pending');
    await service.decide(ticket.id, bob, 'approve');
    expect((await ticket.outcome).status).toBe('approved');
  });

  it('times out', async () => {
    const service = new ApprovalService({ store: memoryStore(), publicUrl: 'http://x' });
    const ticket = await service.hold(held({ expires_in: '50ms' }));
    expect(await ticket.outcome).toEqual({ status: 'timeout' });
    expect(service.get(ticket.id)!.status).toBe('expired');
  });

  it('opens a grant that lets the same statement through until revoked', async () => {
    const service = new ApprovalService({ store: memoryStore(), publicUrl: 'http://x' });
    const first = await service.hold(held({ grant_ttl: '1h' }));
    await service.decide(first.id, alice, 'approve');
    await first.outcome;
    const again = await service.hold(held({ grant_ttl: '1h' }));
    expect((await again.outcome).status).toBe('approved');
    const [grant] = service.grants();
    expect(await service.revokeGrant(grant!.id, 'alice')).toBe(true);
    const third = await service.hold(held());
    expect(service.get(third.id)!.status).toBe('pending');
    third.cancel();
    expect((await third.outcome).status).toBe('denied');
  });

  it('marks pending requests abandoned after a restart and keeps grants', async () => {
    const file = path.join(await mkdtemp(path.join(os.tmpdir(), 'approvals-')), 'db.json');
    const before = new ApprovalService({ store: await openFileStore(file), publicUrl: 'http://x' });
    const granted = await before.hold(held({ grant_ttl: '1h' }));
    await before.decide(granted.id, alice, 'approve');
    const pending = await before.hold({ ...held(), fingerprint: 'fp-2' });
    const after = new ApprovalService({ store: await openFileStore(file), publicUrl: 'http://x' });
    expect(after.get(pending.id)!.status).toBe('abandoned');
    expect(after.grants()).toHaveLength(1);
    before.close();
  });
});
