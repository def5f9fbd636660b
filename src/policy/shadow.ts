/**
 * Shadow mode: a candidate bundle decides the same live inputs as the active one, without
 * enforcing anything, and every decision where the two differ (allow, masks, approval) is
 * reported. The candidate runs after the live decision, off its path, from a bounded queue: a
 * slow or broken candidate can neither delay statements nor grow memory without limit.
 */
import { setImmediate } from 'node:timers';
import type { LoadedBundle } from './engine.js';
import type { BundleStamp, DecisionResult, PolicyInput } from './types.js';

/** The part of a decision a divergence shows, for one side. */
export interface ShadowSide {
  bundle: BundleStamp | null;
  decision_id: string;
  allow: boolean;
  reasons: string[];
  mask: Record<string, unknown>;
  approval: unknown;
}

/** One decision where the shadow candidate would have decided differently. */
export interface ShadowDivergence {
  at: string;
  statement_id: string;
  subject: string;
  fingerprint: string;
  /** What differs: `allow`, `mask` and/or `approval`. */
  differs: Array<'allow' | 'mask' | 'approval'>;
  active: ShadowSide;
  shadow: ShadowSide;
}

/** Counters of the shadow evaluations since start. */
export interface ShadowStats {
  evaluated: number;
  divergences: number;
  /** Evaluations skipped because the queue was full. */
  dropped: number;
  pending: number;
}

/** One queued shadow evaluation. */
export interface ShadowJob {
  bundle: LoadedBundle;
  /** The input's JSON text, taken when the live decision was made. */
  encoded: ArrayBuffer;
  input: PolicyInput;
  result: DecisionResult;
}

interface Queued {
  job: ShadowJob;
  statementId: string;
  subject: string;
  fingerprint: string;
}

/** Runs queued shadow evaluations after the current turn of the event loop. */
export class ShadowRunner {
  #queue: Queued[] = [];
  #scheduled = false;
  #waiters: Array<() => void> = [];
  #stats = { evaluated: 0, divergences: 0, dropped: 0 };

  constructor(
    /** Decides the job's input under its shadow bundle. */
    private readonly evaluate: (job: ShadowJob) => DecisionResult,
    private readonly onDivergence: ((divergence: ShadowDivergence) => void) | undefined,
    private readonly limit: number,
  ) {}

  /** Queues one evaluation; drops it (and counts the drop) when the queue is full. */
  enqueue(job: ShadowJob): void {
    if (this.#queue.length >= this.limit) {
      this.#stats.dropped++;
      return;
    }
    // Identity fields are copied now: the caller may change `input` after the decision.
    const { statement, identity } = job.input;
    this.#queue.push({
      job,
      statementId: statement?.id ?? '',
      subject: identity?.subject ?? '',
      fingerprint: statement?.fingerprint ?? '',
    });
    if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(() => this.#drain());
    }
  }

  /** Current counters. */
  stats(): ShadowStats {
    return { ...this.#stats, pending: this.#queue.length };
  }

  /** Resolves when the queue is empty. */
  idle(): Promise<void> {
    if (this.#queue.length === 0 && !this.#scheduled) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  #drain(): void {
    this.#scheduled = false;
    const batch = this.#queue;
    this.#queue = [];
    for (const item of batch) this.#run(item);
    if (this.#queue.length === 0) {
      for (const resolve of this.#waiters.splice(0)) resolve();
    }
  }

  #run(item: Queued): void {
    const { job } = item;
    const shadow = this.evaluate(job);
    this.#stats.evaluated++;
    const differs = differences(job.result, shadow);
    if (differs.length === 0) return;
    this.#stats.divergences++;
    try {
      this.onDivergence?.({
        at: new Date().toISOString(),
        statement_id: item.statementId,
        subject: item.subject,
        fingerprint: item.fingerprint,
        differs,
        active: side(job.result),
        shadow: side(shadow),
      });
    } catch {
      // A failing listener must not stop the shadow evaluations that follow.
    }
  }
}

/** Which of allow, mask and approval differ between two decisions. */
export function differences(
  a: DecisionResult,
  b: DecisionResult,
): Array<'allow' | 'mask' | 'approval'> {
  const out: Array<'allow' | 'mask' | 'approval'> = [];
  if (a.allow !== b.allow) out.push('allow');
  if (stableJson(a.mask) !== stableJson(b.mask)) out.push('mask');
  if (stableJson(a.approval) !== stableJson(b.approval)) out.push('approval');
  return out;
}

function side(result: DecisionResult): ShadowSide {
  return {
    bundle: result.bundle,
    decision_id: result.id,
    allow: result.allow,
    reasons: result.reasons,
    mask: result.mask,
    approval: result.approval,
  };
}

/** JSON with object keys sorted, so that key order does not count as a difference. */
function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const record = value as Record<string, unknown>;
    const keys = Object.keys(record).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${stableJson(record[k])}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}
