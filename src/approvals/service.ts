/**
 * Holding one statement until authorised people decide. The gateway calls `hold`; approvers
 * call `decide` through the HTTP API, on this instance or another sharing the store. Rules: the
 * requester never decides their own request, only members of the named groups decide, and a
 * quorum counts distinct approvers.
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
import { versionOf, type ApprovalRecord, type ApprovalStore, type GrantRecord } from './store.js';

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
  /** This gateway instance; requests it held when it stopped are marked abandoned at start. */
  instance: string;
  /** Base URL of the approvals page, e.g. `http://127.0.0.1:8181` (a function when it is only
   * known once the HTTP server listens). */
  publicUrl: string | (() => string);
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
  readonly #store: ApprovalStore;

  private constructor(private readonly options: ApprovalServiceOptions) {
    this.#store = options.store;
    this.#store.onRequestChange((id) => void this.#release(id));
  }

  /** Starts the service: requests this instance left pending are abandoned (their clients left). */
  static async start(options: ApprovalServiceOptions): Promise<ApprovalService> {
    await options.store.abandon(options.instance);
    return new ApprovalService(options);
  }

  /** Registers a held statement, or answers at once from a live grant. */
  async hold(request: HoldRequest): Promise<ApprovalTicket & { cancel(): void }> {
    const grant = (await this.grants()).find(
      (g) =>
        g.subject === request.subject &&
        (g.issuer ?? '') === (request.issuer ?? '') &&
        g.fingerprint === request.fingerprint &&
        g.text === maskCardNumbers(request.text),
    );
    if (grant) {
      this.#emit('grant_used', { grant_id: grant.id, request_id: grant.request_id }, request);
      return {
        id: grant.request_id,
        grant: grant.id,
        url: this.#url(grant.request_id),
        outcome: Promise.resolve({ status: 'approved', approvals: grant.approvals }),
        cancel: () => {},
      };
    }

    const now = Date.now();
    const { expires_in, grant_ttl } = request.request;
    const waitMs =
      (expires_in && parseDuration(expires_in)) || (this.options.defaultTimeoutMs ?? 600_000);
    const record: ApprovalRecord = {
      id: 'a-' + randomUUID(),
      status: 'pending',
      created_at: new Date(now).toISOString(),
      expires_at: new Date(now + waitMs).toISOString(),
      requester: { subject: request.subject, groups: request.groups, issuer: request.issuer },
      instance: this.options.instance,
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
      grant_ttl_ms: (grant_ttl && parseDuration(grant_ttl)) || null,
      verdicts: [],
    };
    const outcome = new Promise<ApprovalOutcome>((resolve) => {
      const timer = setTimeout(() => void this.#end(record.id, 'expired'), waitMs);
      timer.unref();
      this.#waiters.set(record.id, { resolve, timer });
    });
    await this.#store.putRequest(record);
    this.#emit('requested', { request_id: record.id, actor: request.subject }, request);
    this.options.onRequest?.(record);
    return {
      id: record.id,
      url: this.#url(record.id),
      outcome,
      cancel: () => void this.#end(record.id, 'cancelled'),
    };
  }

  /** Requests, newest first, optionally by status. */
  async list(status?: string): Promise<ApprovalRecord[]> {
    const all = await this.#store.listRequests();
    return all.filter((r) => !status || r.status === status).reverse();
  }

  /** One request, or undefined. */
  get(id: string): Promise<ApprovalRecord | undefined> {
    return this.#store.getRequest(id);
  }

  /** Grants that are neither expired nor revoked. */
  async grants(): Promise<GrantRecord[]> {
    const now = Date.now();
    const all = await this.#store.listGrants();
    return all.filter((g) => !g.revoked_at && Date.parse(g.expires_at) > now);
  }

  /** Records an approver's verdict; settles the request once it is decided. */
  async decide(
    id: string,
    approver: Identity,
    verdict: 'approve' | 'deny',
    comment = '',
  ): Promise<ApprovalRecord> {
    const record = await this.#store.getRequest(id);
    if (!record) throw new PgwardenError('ERR_APPROVAL', `no approval request ${id}`);
    if (record.status === 'pending' && Date.parse(record.expires_at) <= Date.now()) {
      record.status = 'expired';
    }
    if (record.status !== 'pending') {
      throw new PgwardenError('ERR_APPROVAL', `request ${id} is ${record.status}, not pending`);
    }
    if (approver.subject === record.requester.subject) {
      throw new PgwardenError('ERR_APPROVAL', 'the requester cannot decide their own request');
    }
    if (!approver.groups.some((g) => record.approvers.includes(g))) {
      const groups = record.approvers.join(', ');
      throw new PgwardenError('ERR_APPROVAL', `only members of ${groups} may decide this request`);
    }
    if (record.verdicts.some((v) => v.approver === approver.subject)) {
      throw new PgwardenError('ERR_APPROVAL', `${approver.subject} already decided this request`);
    }
    const seen = versionOf(record);
    const safeComment = maskCardNumbers(comment).slice(0, 2000);
    record.verdicts.push({
      approver: approver.subject,
      groups: approver.groups,
      verdict,
      at: new Date().toISOString(),
      comment: safeComment,
    });
    const approvals = record.verdicts.filter((v) => v.verdict === 'approve');
    if (verdict === 'deny') record.status = 'denied';
    else if (approvals.length >= record.quorum) record.status = 'approved';
    if (!(await this.#store.putRequest(record, seen))) {
      throw new PgwardenError(
        'ERR_APPROVAL',
        `request ${id} changed while it was being decided (another verdict, or it expired); ` +
          'load it again',
      );
    }
    if (record.status === 'approved' && record.grant_ttl_ms) await this.#grant(record);
    this.#emit(verdict === 'approve' ? 'approved' : 'denied', {
      request_id: id,
      session_id: record.session_id,
      actor: approver.subject,
      comment: safeComment,
    });
    return record;
  }

  /** Revokes a grant; returns false when there is no such live grant. */
  async revokeGrant(id: string, by: string): Promise<boolean> {
    const grant = (await this.grants()).find((g) => g.id === id);
    if (!grant) return false;
    grant.revoked_at = new Date().toISOString();
    await this.#store.putGrant(grant);
    this.#emit('grant_revoked', { grant_id: id, actor: by });
    return true;
  }

  /** Ends every wait of this instance (at shutdown) and closes the store. */
  async close(): Promise<void> {
    await Promise.all([...this.#waiters.keys()].map((id) => this.#end(id, 'cancelled')));
    await this.#store.close();
  }

  /** Ends a pending request of this instance (timeout, client gone). */
  async #end(id: string, status: 'expired' | 'cancelled'): Promise<void> {
    // A verdict written in the meantime wins; one that leaves the request pending (a first
    // approval of a quorum) does not stop the expiry, which tries again on the new version.
    for (;;) {
      const record = await this.#store.getRequest(id);
      if (!record || record.status !== 'pending') return this.#release(id);
      const seen = versionOf(record);
      record.status = status;
      if (await this.#store.putRequest(record, seen)) {
        this.#emit(status, { request_id: id, session_id: record.session_id });
        return;
      }
    }
  }

  /** Settles the local wait for `id` once its record is decided, whichever instance decided. */
  async #release(id: string): Promise<void> {
    const waiter = this.#waiters.get(id);
    if (!waiter) return;
    const record = await this.#store.getRequest(id);
    if (!record || record.status === 'pending' || !this.#waiters.has(id)) return;
    this.#waiters.delete(id);
    clearTimeout(waiter.timer);
    waiter.resolve(outcomeOf(record));
  }

  async #grant(record: ApprovalRecord): Promise<void> {
    const now = Date.now();
    await this.#store.putGrant({
      id: 'g-' + randomUUID(),
      subject: record.requester.subject,
      issuer: record.requester.issuer,
      text: record.text,
      fingerprint: record.fingerprint,
      request_id: record.id,
      created_at: new Date(now).toISOString(),
      expires_at: new Date(now + record.grant_ttl_ms!).toISOString(),
      revoked_at: null,
      approvals: approvalsOf(record),
    });
  }

  #emit(event: ApprovalEvent['event'], fields: Omit<ApprovalEvent, 'event'>, held?: HoldRequest) {
    const context = held ? { session_id: held.sessionId, fingerprint: held.fingerprint } : {};
    this.options.onEvent?.({ event, ...context, ...fields });
  }

  #url(id: string): string {
    const { publicUrl } = this.options;
    const base = typeof publicUrl === 'function' ? publicUrl() : publicUrl;
    return `${base.replace(/\/$/, '')}/approvals#${id}`;
  }
}

function approvalsOf(record: ApprovalRecord): GrantRecord['approvals'] {
  return record.verdicts
    .filter((v) => v.verdict === 'approve')
    .map(({ approver, at, comment }) => ({ approver, at, comment }));
}

function outcomeOf(record: ApprovalRecord): ApprovalOutcome {
  switch (record.status) {
    case 'approved':
      return { status: 'approved', approvals: approvalsOf(record) };
    case 'expired':
      return { status: 'timeout' };
    case 'denied': {
      const by = record.verdicts.find((v) => v.verdict === 'deny');
      const why = by?.comment ? `: ${by.comment}` : '';
      return { status: 'denied', reason: by ? `denied by ${by.approver}${why}` : 'denied' };
    }
    default:
      return { status: 'denied', reason: `request ${record.status}` };
  }
}
