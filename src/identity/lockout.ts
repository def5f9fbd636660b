/**
 * Lockout after repeated failed logins (PCI DSS 8.3.4: at most 10 attempts, locked for at least
 * 30 minutes or until an administrator resets it). Counted separately per subject and per client
 * address, in memory of this gateway process.
 *
 * Trade-off: a subject is known before verification only from the unverified token, so anybody
 * able to reach the gateway can lock a subject out by sending bad tokens naming it. That is the
 * behaviour the standard asks for; the per-address lock limits who can do it cheaply.
 */

/** How many failures lock, and for how long. */
export interface LockoutOptions {
  /** Failures within the window that lock the subject or address. */
  maxAttempts: number;
  /** How long a lock lasts. */
  durationMs: number;
  /** Failures older than this are forgotten. Default: `durationMs`. */
  windowMs?: number;
}

/** Default: 10 attempts, 30 minutes, the limits PCI DSS 8.3.4 names. */
export const DEFAULT_LOCKOUT: LockoutOptions = { maxAttempts: 10, durationMs: 30 * 60_000 };

/** Bound on tracked keys, so a flood of distinct addresses cannot grow memory without end. */
const MAX_ENTRIES = 100_000;

interface Counter {
  failures: number;
  windowStart: number;
  lockedUntil: number;
}

/** Failure counters with time-boxed locks. */
export class Lockout {
  private readonly counters = new Map<string, Counter>();
  private readonly windowMs: number;

  constructor(
    private readonly options: LockoutOptions,
    private readonly now: () => number = Date.now,
  ) {
    if (!(options.maxAttempts >= 1) || !(options.durationMs > 0)) {
      throw new TypeError('lockout needs maxAttempts >= 1 and durationMs > 0');
    }
    this.windowMs = options.windowMs ?? options.durationMs;
    if (!(this.windowMs > 0)) throw new TypeError('lockout windowMs must be > 0');
  }

  /** The first of `keys` that is locked now, if any, and until when. */
  locked(keys: string[]): { key: string; until: Date } | undefined {
    const now = this.now();
    for (const key of keys) {
      const counter = this.counters.get(key);
      if (counter && counter.lockedUntil > now)
        return { key, until: new Date(counter.lockedUntil) };
    }
    return undefined;
  }

  /** Counts one failure against each key; returns the keys that became locked by it. */
  fail(keys: string[]): string[] {
    const now = this.now();
    const newlyLocked: string[] = [];
    for (const key of keys) {
      let counter = this.counters.get(key);
      if (!counter || this.forgotten(counter, now)) {
        counter = { failures: 0, windowStart: now, lockedUntil: 0 };
        this.remember(key, counter);
      }
      counter.failures += 1;
      if (counter.failures >= this.options.maxAttempts && counter.lockedUntil <= now) {
        counter.lockedUntil = now + this.options.durationMs;
        newlyLocked.push(key);
      }
    }
    return newlyLocked;
  }

  /** A successful login clears the counters of its keys. */
  succeed(keys: string[]): void {
    for (const key of keys) this.counters.delete(key);
  }

  /** Removes a lock by hand (an administrator's reset). */
  reset(key: string): void {
    this.counters.delete(key);
  }

  /** A counter starts afresh when its lock has ended, or (never locked) its window passed. */
  private forgotten(counter: Counter, now: number): boolean {
    if (counter.lockedUntil > now) return false;
    return counter.lockedUntil > 0 || now - counter.windowStart > this.windowMs;
  }

  private remember(key: string, counter: Counter): void {
    this.counters.delete(key);
    if (this.counters.size >= MAX_ENTRIES) this.prune();
    this.counters.set(key, counter);
  }

  /** Drops expired counters; if still full, the oldest (Map keeps insertion order). */
  private prune(): void {
    const now = this.now();
    for (const [key, counter] of this.counters) {
      if (this.forgotten(counter, now)) this.counters.delete(key);
    }
    while (this.counters.size >= MAX_ENTRIES) {
      const oldest = this.counters.keys().next();
      if (oldest.done) break;
      this.counters.delete(oldest.value);
    }
  }
}
