/**
 * Where approval requests and grants are kept. The embedded default is a JSON file (lowdb);
 * several gateways share a PostgreSQL store instead (see pg-store.ts), which tells every
 * instance when a record changes so the one holding the statement can release it.
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { Low } from 'lowdb';
import { JSONFile } from 'lowdb/node';

/** One approver's verdict. */
export interface Verdict {
  approver: string;
  groups: string[];
  verdict: 'approve' | 'deny';
  at: string;
  comment: string;
}

/** A statement held for a person's decision. */
export interface ApprovalRecord {
  id: string;
  status: 'pending' | 'approved' | 'denied' | 'expired' | 'cancelled' | 'abandoned';
  created_at: string;
  expires_at: string;
  requester: { subject: string; groups: string[]; issuer?: string };
  /** Gateway instance holding the statement. */
  instance: string;
  session_id: string;
  statement_id: string;
  decision_id: string;
  database: string;
  /** Statement text with card-number-like literals masked; bound parameters never stored. */
  text: string;
  fingerprint: string;
  reason: string;
  reasons: string[];
  approvers: string[];
  quorum: number;
  grant_ttl_ms: number | null;
  verdicts: Verdict[];
}

/** A time-boxed permission for one identity to run one statement shape without waiting. */
export interface GrantRecord {
  id: string;
  subject: string;
  /** The requester's issuer: the same subject name from another issuer is someone else. */
  issuer?: string;
  /**
   * The approved statement's text (card-number-like literals masked): a grant covers that
   * statement exactly, not others of its shape with other constants (LIMIT 1001 is not LIMIT 10^8).
   */
  text?: string;
  fingerprint: string;
  request_id: string;
  created_at: string;
  expires_at: string;
  revoked_at: string | null;
  approvals: Array<{ approver: string; at: string; comment: string }>;
}

/**
 * What a writer saw of a request before changing it. A write made against it succeeds only while
 * the stored request still has that status and that many verdicts, so two approvers (or an
 * approver and the expiry timer) deciding at once cannot overwrite each other.
 */
export interface RequestVersion {
  status: ApprovalRecord['status'];
  verdicts: number;
}

/** The version of `record` as read, for a conditional write. */
export function versionOf(record: ApprovalRecord): RequestVersion {
  return { status: record.status, verdicts: record.verdicts.length };
}

/**
 * Persistence for approvals. Every write is durable before it resolves; `onRequestChange`
 * reports requests written by any instance sharing the store (this one included).
 */
export interface ApprovalStore {
  getRequest(id: string): Promise<ApprovalRecord | undefined>;
  listRequests(): Promise<ApprovalRecord[]>;
  listGrants(): Promise<GrantRecord[]>;
  /**
   * Writes a request. With `expected`, only when the stored request still matches it; returns
   * whether the write happened (always true without `expected`).
   */
  putRequest(record: ApprovalRecord, expected?: RequestVersion): Promise<boolean>;
  putGrant(grant: GrantRecord): Promise<void>;
  onRequestChange(listener: (id: string) => void): void;
  /** Marks requests held by `instance` that are still pending as abandoned (at its start). */
  abandon(instance: string): Promise<void>;
  close(): Promise<void>;
}

interface Data {
  requests: ApprovalRecord[];
  grants: GrantRecord[];
}

/** Opens (or creates) the JSON file store of one gateway. */
export async function openFileStore(file: string): Promise<ApprovalStore> {
  await mkdir(path.dirname(file), { recursive: true });
  // Not lowdb's JSONFilePreset: it silently keeps data in memory when NODE_ENV is `test`.
  const db = new Low<Data>(new JSONFile<Data>(file), { requests: [], grants: [] });
  await db.read();
  return listStore(db.data, () => db.write());
}

/** A store that lives in memory only, for tests. */
export function memoryStore(): ApprovalStore {
  return listStore({ requests: [], grants: [] }, async () => {});
}

function listStore(data: Data, persist: () => Promise<void>): ApprovalStore {
  const listeners: Array<(id: string) => void> = [];
  // Callers get copies, so a record changes only through put.
  const copy = <T>(value: T): T => structuredClone(value);
  return {
    getRequest: async (id) => copy(data.requests.find((r) => r.id === id)),
    listRequests: async () => copy(data.requests),
    listGrants: async () => copy(data.grants),
    async putRequest(record, expected) {
      if (expected) {
        const stored = data.requests.find((r) => r.id === record.id);
        if (!stored || !matches(stored, expected)) return false;
      }
      upsert(data.requests, copy(record));
      await persist();
      for (const listener of listeners) listener(record.id);
      return true;
    },
    async putGrant(grant) {
      upsert(data.grants, copy(grant));
      await persist();
    },
    onRequestChange: (listener) => void listeners.push(listener),
    async abandon(instance) {
      let changed = false;
      for (const request of data.requests) {
        if (request.status === 'pending' && (request.instance ?? instance) === instance) {
          request.status = 'abandoned';
          changed = true;
        }
      }
      if (changed) await persist();
    },
    close: async () => {},
  };
}

function matches(record: ApprovalRecord, expected: RequestVersion): boolean {
  return record.status === expected.status && record.verdicts.length === expected.verdicts;
}

function upsert<T extends { id: string }>(list: T[], item: T): void {
  const at = list.findIndex((x) => x.id === item.id);
  if (at >= 0) list[at] = item;
  else list.push(item);
}
