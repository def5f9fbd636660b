/**
 * Reading a trail back for auditors: every record in chain order, filters by subject, time,
 * kind, table and outcome, a session's records, and the OPA decision-log shape. Readers are
 * tolerant of how the gateway nests its fields; docs/audit.md lists the names they look for.
 */
import { resolveTrailPath } from './files.js';
import { fileContent } from './files.js';
import { isAuditRecord, type AuditRecord } from './record.js';

/** What `audit query` can filter on; every given criterion must match. */
export interface QueryFilter {
  subject?: string;
  since?: Date;
  until?: Date;
  kind?: string;
  /** `schema.table` or a bare table name. */
  table?: string;
  /** `allow`, `deny` or `approval`. */
  decision?: string;
  session?: string;
}

/** Yields every parseable record of the trail at `path` (folder or file), chain by chain. */
export async function* readTrail(path: string): AsyncGenerator<AuditRecord> {
  for (const files of await resolveTrailPath(path)) {
    for (const file of files) {
      const { lines } = await fileContent(file);
      for (const { text } of lines) {
        let record: unknown;
        try {
          record = JSON.parse(text);
        } catch {
          continue; // `audit verify` reports unreadable lines; readers skip them
        }
        if (isAuditRecord(record)) yield record;
      }
    }
  }
}

function obj(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/** The recorded policy input, if the record has one. */
export function recordInput(r: AuditRecord): Record<string, unknown> | undefined {
  return obj(r.input);
}

/** The identity subject a record is about. */
export function recordSubject(r: AuditRecord): string | undefined {
  return (
    str(r.subject) ?? str(obj(r.identity)?.subject) ?? str(obj(recordInput(r)?.identity)?.subject)
  );
}

/** The session (connection) id a record belongs to. */
export function recordSession(r: AuditRecord): string | undefined {
  return (
    str(r.session) ??
    str(r.session_id) ??
    str(obj(r.connection)?.id) ??
    str(obj(recordInput(r)?.connection)?.id)
  );
}

/** The decision part of a decision record: the object itself or its `decision` member. */
function decisionOf(r: AuditRecord): Record<string, unknown> {
  return obj(r.decision) ?? r;
}

/** `allow`, `deny` or `approval` for decision records; undefined for other kinds. */
export function recordOutcome(r: AuditRecord): string | undefined {
  const explicit = str(r.outcome) ?? str(obj(r.decision)?.outcome);
  if (explicit) return explicit;
  const d = decisionOf(r);
  if (typeof d.allow !== 'boolean') return undefined;
  if (d.allow && d.approval) return 'approval';
  return d.allow ? 'allow' : 'deny';
}

/** Tables a record names, as `schema.table`. */
export function recordTables(r: AuditRecord): string[] {
  const facts = obj(r.facts);
  const list =
    r.tables ?? facts?.tables ?? obj(recordInput(r)?.statement)?.tables ?? obj(r.statement)?.tables;
  if (!Array.isArray(list)) return [];
  return list.flatMap((t) => {
    if (typeof t === 'string') return [t];
    const o = obj(t);
    const name = str(o?.name);
    if (!name) return [];
    return [str(o?.schema) ? `${str(o?.schema)}.${name}` : name];
  });
}

/** The decision id of a decision record. */
export function recordDecisionId(r: AuditRecord): string | undefined {
  return str(r.decision_id) ?? str(obj(r.decision)?.id);
}

/** True when `r` meets every criterion of `filter`. */
export function matchesFilter(r: AuditRecord, filter: QueryFilter): boolean {
  if (filter.kind && r.kind !== filter.kind) return false;
  const time = Date.parse(r.time);
  if (filter.since && !(time >= filter.since.getTime())) return false;
  if (filter.until && !(time < filter.until.getTime())) return false;
  if (filter.subject && recordSubject(r) !== filter.subject) return false;
  if (filter.session && recordSession(r) !== filter.session) return false;
  if (filter.decision && recordOutcome(r) !== filter.decision) return false;
  if (filter.table) {
    const want = filter.table;
    const hit = recordTables(r).some((t) => t === want || t.split('.').pop() === want);
    if (!hit) return false;
  }
  return true;
}

/** Collects the records of `path` that match `filter`. */
export async function queryAudit(path: string, filter: QueryFilter): Promise<AuditRecord[]> {
  const out: AuditRecord[] = [];
  for await (const r of readTrail(path)) if (matchesFilter(r, filter)) out.push(r);
  return out;
}

/**
 * Converts a decision record to an OPA decision-log event (decision_id, path, input, result,
 * bundles, timestamp, labels), so pipelines built for OPA can take pgwarden's decisions.
 * Other kinds give undefined.
 */
export function toOpaDecisionLog(r: AuditRecord): Record<string, unknown> | undefined {
  if (r.kind !== 'decision') return undefined;
  const d = decisionOf(r);
  const bundle = obj(r.bundle) ?? obj(d.bundle);
  const outcome = recordOutcome(r);
  const allow = typeof d.allow === 'boolean' ? d.allow : outcome ? outcome !== 'deny' : undefined;
  const result = obj(r.result) ?? {
    allow,
    reasons: d.reasons,
    mask: d.mask,
    approval: d.approval ?? null,
  };
  const event: Record<string, unknown> = {
    decision_id: recordDecisionId(r) ?? `${r.instance}-${r.seq}`,
    path: str(r.path) ?? 'pgwarden/decision',
    input: recordInput(r),
    result,
    timestamp: r.time,
    labels: { id: r.instance, app: 'pgwarden', audit_seq: String(r.seq), audit_hash: r.hash },
  };
  if (bundle) {
    event.bundles = { pgwarden: { revision: str(bundle.revision) ?? '', hash: bundle.hash } };
  }
  const evalUs = r.eval_us ?? r.eval_micros ?? d.evalMicros;
  if (typeof evalUs === 'number') event.metrics = { timer_rego_query_eval_ns: evalUs * 1000 };
  return event;
}
