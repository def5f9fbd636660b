import { describe, expect, it } from 'vitest';
import { readDecision } from '../../src/policy/index.js';

describe('decision shape', () => {
  it('accepts the documented decision', () => {
    const d = readDecision([
      { result: { allow: true, reasons: ['ok'], mask: { 'public.cards.pan': 'pan_last4' } } },
    ]);
    expect(d).toMatchObject({ allow: true, reasons: ['ok'], approval: null, rowLimit: null });
  });

  it.each([
    [[], /no decision/],
    [[{ result: true }], /not an object/],
    [[{ result: { allow: 'yes' } }], /"allow" must be a boolean/],
    [[{ result: { allow: true, mask: { 'public.cards.pan': 'rot13' } } }], /unknown mask method/],
    [[{ result: { allow: true, mask: { pan: 'redact' } } }], /schema.table.column/],
    [[{ result: { allow: true, approval: { reason: 'x', approvers: [] } } }], /approvers/],
    [[{ result: { allow: true, row_limit: -1 } }], /row_limit/],
    [[{ result: { allow: true } }, { result: { allow: true } }], /more than one/],
  ])('denies a malformed result set %#', (resultSet, reason) => {
    const d = readDecision(resultSet);
    expect(d.allow).toBe(false);
    expect(d.reasons.join(' ')).toMatch(reason);
  });
});
