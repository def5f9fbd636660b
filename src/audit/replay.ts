/**
 * Replay: evaluates a decision record's recorded policy input again, against a bundle the auditor
 * supplies, and compares. The record names the bundle (hash and revision) that made the decision,
 * so the auditor can show that the same policy version gives the same answer, or see what a new
 * version would have decided. Evaluation is a callback so this folder does not depend on the
 * policy module; the command line passes one that loads the bundle with it.
 *
 * A decision taken from the gateway's decision cache has no input of its own: it names, in
 * `cached_from`, the decision whose record holds the full input, and the cache reused that
 * decision's outcome and masks. Replay follows that name and evaluates the original input.
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
  /**
   * For a decision from the decision cache: the decision record whose input was evaluated (the
   * one `cached_from` names). Absent when the decision recorded its own input.
   */
  inputFrom?: { seq: number; decisionId: string };
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

/**
 * Finds the decision record with decision id `id` in `instance`'s chain: the record a cached
 * decision's `cached_from` names.
 */
async function findById(path: string, id: string, instance: string): Promise<AuditRecord> {
  for await (const r of readTrail(path)) {
    if (r.kind === 'decision' && r.instance === instance && recordDecisionId(r) === id) return r;
  }
  throw new PgwardenError(
    'ERR_AUDIT_VERIFY',
    `decision ${id}, which holds the policy input of this cached decision, is not in the trail`,
  );
}

/** Replays decision record `seq` of the trail at `path` against `bundleFile`. */
export async function replayDecision(
  path: string,
  options: { seq: number; bundle: string; evaluate: ReplayEvaluator; instance?: string },
): Promise<ReplayReport> {
  const record = await findDecision(path, options.seq, options.instance);
  let input = recordInput(record);
  let inputFrom: ReplayReport['inputFrom'];
  const cachedFrom = record.cached_from;
  if (!input && typeof cachedFrom === 'string') {
    const original = await findById(path, cachedFrom, record.instance);
    input = recordInput(original);
    inputFrom = { seq: original.seq, decisionId: cachedFrom };
  }
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
    ...(inputFrom ? { inputFrom } : {}),
  };
}
