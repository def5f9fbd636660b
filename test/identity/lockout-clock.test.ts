// Lockout counting on a controlled clock: window, lock duration, fresh start after a lock.
import { describe, expect, it } from 'vitest';
import { Lockout } from '../../src/identity/lockout.js';

describe('Lockout counters', () => {
  it('forgets failures older than the window, locks for the duration, then starts afresh', () => {
    let now = 0;
    const lockout = new Lockout({ maxAttempts: 3, durationMs: 1_000, windowMs: 500 }, () => now);
    lockout.fail(['k']);
    lockout.fail(['k']);
    now = 600; // window passed: the two failures are forgotten
    expect(lockout.fail(['k'])).toEqual([]);
    expect(lockout.fail(['k'])).toEqual([]);
    expect(lockout.fail(['k'])).toEqual(['k']);
    expect(lockout.locked(['other', 'k'])).toEqual({ key: 'k', until: new Date(1_600) });
    now = 1_599;
    expect(lockout.locked(['k'])).toBeDefined();
    now = 1_600;
    expect(lockout.locked(['k'])).toBeUndefined();
    // After a lock ends the count restarts: one failure does not lock again.
    expect(lockout.fail(['k'])).toEqual([]);
    expect(lockout.locked(['k'])).toBeUndefined();
  });

  it('rejects nonsense limits', () => {
    expect(() => new Lockout({ maxAttempts: 0, durationMs: 1 })).toThrow(TypeError);
    expect(() => new Lockout({ maxAttempts: 1, durationMs: 0 })).toThrow(TypeError);
  });
});
