/**
 * Holding one statement until authorised people decide. The gateway calls `hold`; approvers
 * call `approve` / `deny` through the HTTP API. Rules: the requester never approves their own
 * request, only members of the named groups approve, and a quorum counts distinct approvers.
 */
import { randomUUID } from 'node:crypto';
import { parseDuration } from '../config/units.js';
import { PgwardenError } from '../errors.js';
import type {
  ApprovalBroker,
  ApprovalOutcome,
  ApprovalTicket,
  HoldRequest,
} from '../gateway/options.js';
import type { Identity } from '../identity/types.js';
import { maskCardNumbers } from '../masking/detect.js';
import type { ApprovalRecord, ApprovalStore, GrantRecord } from './store.js';

/** An approval event for the audit trail. */
export interface ApprovalEvent {
  event:
    'requested' | 'approved' | 'denied' | 'expired' | 'cancelled' | 'grant_used' | 'grant_revoked';
  request_id?: string;
  grant_id?: string;
  session_id?: string;
  actor?: string;
  comment?: string;
  fingerprint?: string;
}

/** Options of the approvals service. */
export interface ApprovalServiceOptions {
  store: ApprovalStore;
  /** Base URL of the approvals page, e.g. `http://127.0.0.1:8181`. */
  publicUrl: string;
  /** How long a statement may wait when the policy does not say; default 10 minutes. */
  defaultTimeoutMs?: number;
  /** Called with each new request (webhook). */
  onRequest?: (record: ApprovalRecord) => void;
  onEvent?: (event: ApprovalEvent) => void;
}

interface Waiter {
  resolve: (outcome: ApprovalOutcome) => void;
  timer: NodeJS.Timeout;
}

/** The approvals service: the gateway's broker and the API's backend. */
export class ApprovalService implements ApprovalBroker {
  readonly #waiters = new Map<string, Waiter>();

  constructor(private readonly options: ApprovalServiceOptions) {}

  /** Registers a held statement, or answers at once from a live grant. */
  async hold(request: HoldRequest): Promise<ApprovalTicket & { cancel(): void }> {
    const grant = this.#liveGrant(request.subject, request.fingerprint);
    if (grant) {
      this.options.onEvent?.({
        event: 'grant_used',
        grant_id: grant.id,
        request_id: grant.request_id,
        session_id: request.sessionId,
        fingerprint: grant.fingerprint,
      });
      return {
        id: grant.request_id,
        url: this.#url(grant.request_id),
        outcome: Promise.resolve({ status: 'approved', approvals: grant.approvals }),
        cancel: () => {},
      };
    }

    const now = Date.now();
    const waitMs =
      (request.request.expires_in && parseDuration(request.request.expires_in)) ||
      (this.options.defaultTimeoutMs ?? 10 * 60_000);
    const grantTtl = request.request.grant_ttl
      ? parseDuration(request.request.grant_ttl)
      : undefined;
    const record: ApprovalRecord = {
      id: 'a-' + randomUUID(),
      status: 'pending',
      created_at: new Date(now).toISOString(),
      expires_at: new Date(now + waitMs).toISOString(),
      requester: { subject: request.subject, groups: request.groups },
      session_id: request.sessionId,
      statement_id: request.statementId,
      decision_id: request.decisionId,
      database: request.database,
      text: maskCardNumbers(request.text),
      fingerprint: request.fingerprint,
      reason: request.request.reason,
      reasons: request.reasons,
      approvers: request.request.approvers,
      quorum: request.request.quorum ?? 1,
      grant_ttl_ms: grantTtl ?? null,
      verdicts: [],
    };
    await this.options.store.putRequest(record);
    const outcome = new Promise<ApprovalOutcome>((resolve) => {
      const timer = setTimeout(() => void this.#settle(record.id, 'expired'), waitMs);
      timer.unref();
      this.#waiters.set(record.id, { resolve, timer });
    });
    this.options.onEvent?.({
      event: 'requested',
      request_id: record.id,
      session_id: record.session_id,
      actor: record.requester.subject,
      fingerprint: record.fingerprint,
    });
    this.options.onRequest?.(record);
    return {
      id: record.id,
      url: this.#url(record.id),
      outcome,
      cancel: () => void this.#settle(record.id, 'cancelled'),
    };
  }

  /** Requests, newest first, optionally by status. */
  list(status?: string): ApprovalRecord[] {
    const all = this.options.store.requests().filter((r) => !status || r.status === status);
    return [...all].reverse();
  }

  /** One request, or undefined. */
  get(id: string): ApprovalRecord | undefined {
    return this.options.store.requests().find((r) => r.id === id);
  }

  /** Grants that are neither expired nor revoked. */
  grants(): GrantRecord[] {
    const now = Date.now();
    return this.options.store
      .grants()
      .filter((g) => !g.revoked_at && Date.parse(g.expires_at) > now);
  }

  /** Records an approver's verdict; settles the request when it is decided. */
  async decide(
    id: string,
    approver: Identity,
    verdict: 'approve' | 'deny',
    comment = '',
  ): Promise<ApprovalRecord> {
    const record = this.get(id);
    if (!record) throw new PgwardenError('ERR_APPROVAL', `no approval request ${id}`);
    if (record.status !== 'pending') {
      throw new PgwardenError('ERR_APPROVAL', `request ${id} is ${record.status}, not pending`);
    }
    if (approver.subject === record.requester.subject) {
      throw new PgwardenError('ERR_APPROVAL', 'the requester cannot decide their own request');
    }
    if (!approver.groups.some((g) => record.approvers.includes(g))) {
      throw new PgwardenError(
        'ERR_APPROVAL',
        `only members of ${record.approvers.join(', ')} may decide this request`,
      );
    }
    if (record.verdicts.some((v) => v.approver === approver.subject)) {
      throw new PgwardenError('ERR_APPROVAL', `${approver.subject} already decided this request`);
    }
    record.verdicts.push({
      approver: approver.subject,
      groups: approver.groups,
      verdict,
      at: new Date().toISOString(),
      comment: maskCardNumbers(comment).slice(0, 2000),
    });
    this.options.onEvent?.({
      event: verdict === 'approve' ? 'approved' : 'denied',
      request_id: id,
      session_id: record.session_id,
      actor: approver.subject,
      comment,
    });
    const approvals = record.verdicts.filter((v) => v.verdict === 'approve');
    if (verdict === 'deny') await this.#settle(id, 'denied', `denied by ${approver.subject}`);
    else if (approvals.length >= record.quorum) await this.#settle(id, 'approved');
    else await this.options.store.putRequest(record);
    return record;
  }

  /** Revokes a grant; returns false when there is no such live grant. */
  async revokeGrant(id: string, by: string): Promise<boolean> {
    const grant = this.options.store.grants().find((g) => g.id === id && !g.revoked_at);
    if (!grant) return false;
    grant.revoked_at = new Date().toISOString();
    await this.options.store.putGrant(grant);
    this.options.onEvent?.({ event: 'grant_revoked', grant_id: id, actor: by });
    return true;
  }

  /** Ends every wait (at shutdown), as if each request expired. */
  close(): void {
    for (const id of this.#waiters.keys()) void this.#settle(id, 'cancelled');
  }

  async #settle(id: string, status: ApprovalRecord['status'], reason?: string): Promise<void> {
    const record = this.get(id);
    const waiter = this.#waiters.get(id);
    this.#waiters.delete(id);
    if (waiter) clearTimeout(waiter.timer);
    if (!record || record.status !== 'pending') return;
    record.status = status;
    await this.options.store.putRequest(record);
    const approvals = record.verdicts
      .filter((v) => v.verdict === 'approve')
      .map(({ approver, at, comment }) => ({ approver, at, comment }));
    if (status === 'approved' && record.grant_ttl_ms) await this.#grant(record, approvals);
    if (status === 'expired' || status === 'cancelled') {
      this.options.onEvent?.({ event: status, request_id: id, session_id: record.session_id });
    }
    if (!waiter) return;
    if (status === 'approved') waiter.resolve({ status: 'approved', approvals });
    else if (status === 'expired') waiter.resolve({ status: 'timeout' });
    else waiter.resolve({ status: 'denied', reason: reason ?? `request ${status}` });
  }

  async #grant(record: ApprovalRecord, approvals: GrantRecord['approvals']): Promise<void> {
    const now = Date.now();
    await this.options.store.putGrant({
      id: 'g-' + randomUUID(),
      subject: record.requester.subject,
      fingerprint: record.fingerprint,
      request_id: record.id,
      created_at: new Date(now).toISOString(),
      expires_at: new Date(now + record.grant_ttl_ms!).toISOString(),
      revoked_at: null,
      approvals,
    });
  }

  #liveGrant(subject: string, fingerprint: string): GrantRecord | undefined {
    return this.grants().find((g) => g.subject === subject && g.fingerprint === fingerprint);
  }

  #url(id: string): string {
    return `${this.options.publicUrl.replace(/\/$/, '')}/approvals#${id}`;
  }
}
