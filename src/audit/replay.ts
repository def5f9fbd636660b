/**
 * Replay: evaluates a decision record's recorded policy input again, against a bundle the auditor
 * supplies, and compares. The record names the bundle (hash and revision) that made the decision,
 * so the auditor can show that the same policy version gives the same answer, or see what a new
 * version would have decided. Evaluation is a callback so this folder does not depend on the
 * policy module; the command line passes one that loads the bundle with it.
 */
import { isDeepStrictEqual } from 'node:util';
import { NotSupportedError, PgwardenError } from '../errors.js';
import { readTrail, recordDecisionId, recordInput, recordOutcome } from './query.js';
import type { AuditRecord } from './record.js';

/** What the evaluator returns: the validated decision and the stamp of the bundle it ran. */
export interface ReplayEvaluation {
  decision: { allow: boolean; reasons: string[]; mask: Record<string, unknown>; approval: unknown };
  bundle: { hash: string; revision: string } | null;
}

/** Evaluates `input` under the bundle in `bundleFile`. */
export type ReplayEvaluator = (bundleFile: string, input: unknown) => Promise<ReplayEvaluation>;

/** One side of the comparison. */
export interface ReplaySide {
  outcome: string | undefined;
  reasons: unknown;
  mask: unknown;
  bundle: { hash?: unknown; revision?: unknown } | null;
}

/** The result of a replay. `same` is true when the bundle and the outcome and masks match. */
export interface ReplayReport {
  seq: number;
  instance: string;
  decisionId: string | undefined;
  recorded: ReplaySide;
  replayed: ReplaySide;
  bundleMatches: boolean;
  sameOutcome: boolean;
  sameMasks: boolean;
  same: boolean;
}

function recordedSide(r: AuditRecord): ReplaySide {
  const nested = r.decision;
  const d = (typeof nested === 'object' && nested !== null ? nested : r) as Record<string, unknown>;
  const bundle = (r.bundle ?? d.bundle ?? null) as ReplaySide['bundle'];
  return { outcome: recordOutcome(r), reasons: d.reasons, mask: d.mask ?? {}, bundle };
}

function outcomeOf(d: ReplayEvaluation['decision']): string {
  if (!d.allow) return 'deny';
  return d.approval ? 'approval' : 'allow';
}

/** Finds decision record `seq` (of `instance`, when the folder holds several chains). */
async function findDecision(path: string, seq: number, instance?: string): Promise<AuditRecord> {
  const hits: AuditRecord[] = [];
  for await (const r of readTrail(path)) {
    if (r.seq === seq && (instance === undefined || r.instance === instance)) hits.push(r);
  }
  if (hits.length === 0) throw new PgwardenError('ERR_AUDIT_VERIFY', `no record with seq ${seq}`);
  if (hits.length > 1) {
    throw new TypeError(`seq ${seq} exists in several chains; name one with the instance option`);
  }
  const record = hits[0]!;
  if (record.kind !== 'decision') {
    throw new TypeError(`record ${seq} is a ${record.kind} record, not a decision`);
  }
  return record;
}

/** Replays decision record `seq` of the trail at `path` against `bundleFile`. */
export async function replayDecision(
  path: string,
  options: { seq: number; bundle: string; evaluate: ReplayEvaluator; instance?: string },
): Promise<ReplayReport> {
  const record = await findDecision(path, options.seq, options.instance);
  const input = recordInput(record);
  if (!input) throw new NotSupportedError(`decision ${options.seq} has no recorded policy input`);
  const evaluation = await options.evaluate(options.bundle, input);
  const recorded = recordedSide(record);
  const replayed: ReplaySide = {
    outcome: outcomeOf(evaluation.decision),
    reasons: evaluation.decision.reasons,
    mask: evaluation.decision.mask,
    bundle: evaluation.bundle,
  };
  const bundleMatches =
    recorded.bundle !== null &&
    evaluation.bundle !== null &&
    recorded.bundle.hash === evaluation.bundle.hash;
  const sameOutcome = recorded.outcome === replayed.outcome;
  const sameMasks = isDeepStrictEqual(recorded.mask, replayed.mask);
  return {
    seq: record.seq,
    instance: record.instance,
    decisionId: recordDecisionId(record),
    recorded,
    replayed,
    bundleMatches,
    sameOutcome,
    sameMasks,
    same: bundleMatches && sameOutcome && sameMasks,
  };
}
