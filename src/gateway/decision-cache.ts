/**
 * A session's decision cache: statements that differ only in compared values (see
 * statement-key.ts) reuse the facts and the decision of the first one, which skips analysis and
 * policy evaluation on the hot path. Every reuse is still a decision of its own in the audit
 * trail, with a fresh decision id and the original one it was derived from.
 *
 * An entry applies only while everything else in the policy input is unchanged: the session
 * (identity and connection facts are fixed per session, so the cache is per session), the
 * decider (a new bundle is a new object), the protocol, whether a transaction block is open,
 * and the catalog generation the facts were derived under. Entries also expire after `ttlMs`,
 * which bounds how stale `now` can be for a policy that reads the clock.
 */
import type { Decider, DecisionResult } from '../policy/types.js';
import type { StatementFacts } from '../sql/types.js';
import type { ExecutableStatement } from './results.js';

/** Tuning of the decision cache; see GatewayOptions.decisionCache. */
export interface DecisionCacheOptions {
  /** Entries kept per session (least recently stored go first). Default 256. */
  maxEntries?: number;
  /** How long an entry may be reused, in milliseconds. Default 2 000. */
  ttlMs?: number;
}

/** Statement kinds whose facts depend only on the text's structure and the catalog. */
const CACHEABLE_KINDS = new Set(['select', 'insert', 'update', 'delete']);

/** What must be equal for an entry to apply. */
export interface CacheContext {
  decider: Decider;
  inTransaction: boolean;
  protocol: 'simple' | 'extended';
  /** Catalog generation (bumped when DDL commits anywhere in the gateway). */
  generation: number;
  /** The session's search_path as reported by upstream ('' while the initial one). */
  searchPath: string;
}

/** One cached decision. */
export interface CacheEntry extends CacheContext {
  statement: ExecutableStatement;
  expires: number;
  /** `schema.name` of each table, as every decision record lists them (shared, never changed). */
  tableNames: string[];
  /** Characters of the (masked) query string before and after the statement's own text. */
  prefix: number;
  suffix: number;
}

/**
 * Whether a decided statement may be reused for texts with other compared values. Refusals,
 * approvals (asked or given) and anything whose facts could hold a literal (LIMIT, COPY, named
 * cursors or prepared statements, settings) are always decided afresh.
 */
export function cacheable(statement: ExecutableStatement): boolean {
  const { facts, decision } = statement;
  return (
    decision.allow &&
    !decision.approval &&
    // A decision made with approvals in its input answers for that one statement only; the next
    // one of the same shape asks again (or finds a grant).
    !statement.approved &&
    CACHEABLE_KINDS.has(facts.kind) &&
    facts.limit === null &&
    facts.copy === null &&
    facts.handle === undefined
  );
}

/** The per-session cache. */
export class DecisionCache {
  private readonly entries = new Map<string, CacheEntry>();
  private readonly maxEntries: number;
  private readonly ttlMs: number;
  /** Hits and misses, for the session's end record. */
  readonly stats = { hits: 0, misses: 0 };

  constructor(options: DecisionCacheOptions = {}) {
    this.maxEntries = options.maxEntries ?? 256;
    this.ttlMs = options.ttlMs ?? 2_000;
    if (!(this.maxEntries >= 1) || !(this.ttlMs >= 0)) {
      throw new TypeError('decisionCache needs maxEntries >= 1 and ttlMs >= 0');
    }
  }

  /** The entry for `key` when it applies in `context`, else undefined. */
  lookup(key: string, context: CacheContext): CacheEntry | undefined {
    const entry = this.entries.get(key);
    if (
      !entry ||
      entry.decider !== context.decider ||
      entry.inTransaction !== context.inTransaction ||
      entry.protocol !== context.protocol ||
      entry.generation !== context.generation ||
      entry.searchPath !== context.searchPath ||
      entry.expires <= Date.now()
    ) {
      this.stats.misses++;
      return undefined;
    }
    this.stats.hits++;
    return entry;
  }

  /**
   * Remembers a decided statement for `key`. `maskedText` is the whole query string with card
   * numbers masked, in which the statement's own text must appear.
   */
  store(
    key: string,
    context: CacheContext,
    statement: ExecutableStatement,
    maskedText: string,
  ): void {
    const at = maskedText.indexOf(statement.facts.text);
    if (at < 0) return;
    const suffix = maskedText.length - at - statement.facts.text.length;
    this.entries.delete(key);
    if (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    this.entries.set(key, {
      ...context,
      statement,
      tableNames: statement.facts.tables.map((t) => `${t.schema}.${t.name}`),
      expires: Date.now() + this.ttlMs,
      prefix: at,
      suffix,
    });
  }
}

/**
 * The statement's own text inside a new query string that shares the entry's key: the part
 * outside the statement (spaces, comments, the semicolon) is the same in both, since only
 * compared values differ. Undefined when the new text is too short to hold it.
 */
export function statementText(entry: CacheEntry, maskedText: string): string | undefined {
  const end = maskedText.length - entry.suffix;
  if (end < entry.prefix) return undefined;
  return maskedText.slice(entry.prefix, end);
}

/** A cached decision, restamped for a new statement. */
export function reusedDecision(decision: DecisionResult, id: string): DecisionResult {
  return { ...decision, id, evalMicros: 0 };
}

/** The facts of a cached statement with the new statement's text. */
export function reusedFacts(facts: StatementFacts, text: string): StatementFacts {
  return { ...facts, text };
}
