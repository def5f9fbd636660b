/**
 * Where approval requests and grants are kept. The embedded default is a JSON file (lowdb);
 * pending requests found at start-up are marked abandoned, since the connection that waited
 * for them is gone, while grants stay as they are.
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
  requester: { subject: string; groups: string[] };
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
  fingerprint: string;
  request_id: string;
  created_at: string;
  expires_at: string;
  revoked_at: string | null;
  approvals: Array<{ approver: string; at: string; comment: string }>;
}

interface Data {
  requests: ApprovalRecord[];
  grants: GrantRecord[];
}

/** Persistence for approvals; every method persists before it resolves. */
export interface ApprovalStore {
  requests(): ApprovalRecord[];
  grants(): GrantRecord[];
  putRequest(record: ApprovalRecord): Promise<void>;
  putGrant(grant: GrantRecord): Promise<void>;
}

/** Opens (or creates) the JSON file store and marks requests left pending as abandoned. */
export async function openFileStore(file: string): Promise<ApprovalStore> {
  await mkdir(path.dirname(file), { recursive: true });
  // Not lowdb's JSONFilePreset: it silently keeps data in memory when NODE_ENV is `test`.
  const db = new Low<Data>(new JSONFile<Data>(file), { requests: [], grants: [] });
  await db.read();
  let changed = false;
  for (const request of db.data.requests) {
    if (request.status === 'pending') {
      request.status = 'abandoned';
      changed = true;
    }
  }
  if (changed) await db.write();
  const put = async <T extends { id: string }>(list: T[], item: T) => {
    upsert(list, item);
    await db.write();
  };
  return {
    requests: () => db.data.requests,
    grants: () => db.data.grants,
    putRequest: (record) => put(db.data.requests, record),
    putGrant: (grant) => put(db.data.grants, grant),
  };
}

/** A store that lives in memory only, for tests and for gateways that want no file. */
export function memoryStore(): ApprovalStore {
  const data: Data = { requests: [], grants: [] };
  const put = async <T extends { id: string }>(list: T[], item: T) => upsert(list, item);
  return {
    requests: () => data.requests,
    grants: () => data.grants,
    putRequest: (record) => put(data.requests, record),
    putGrant: (grant) => put(data.grants, grant),
  };
}

function upsert<T extends { id: string }>(list: T[], item: T): void {
  const at = list.findIndex((x) => x.id === item.id);
  if (at >= 0) list[at] = item;
  else list.push(item);
}
