// The byte forms of the masking methods (the row masker's hot path) must agree with their text
// forms on any input, multi-byte characters included.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { resolveMethod } from '../../src/masking/index.js';

const SPECS = [
  'redact',
  'null',
  'pan_last4',
  'pan_first6_last4',
  'email',
  'hash',
  { method: 'partial', prefix: 2, suffix: 3 },
] as const;

const text = fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.stringMatching(/^[0-9 -]{0,24}$/),
  fc.emailAddress(),
);

describe('byte forms of the methods', () => {
  for (const spec of SPECS) {
    const method = resolveMethod(spec, { hmacKey: Buffer.from('k') });
    it(`${JSON.stringify(spec)}: applyBytes and maskInPlace agree with apply`, () => {
      fc.assert(
        fc.property(text, (value) => {
          const expected = method.apply(value);
          const bytes = method.applyBytes(Buffer.from(value, 'utf8'));
          expect(bytes === null ? null : bytes.toString('utf8')).toBe(expected);
          if (method.maskInPlace) {
            const frame = Buffer.concat([Buffer.from('<<'), Buffer.from(value), Buffer.from('>>')]);
            method.maskInPlace(frame, 2, frame.length - 2);
            expect(frame.toString('utf8')).toBe(`<<${expected}>>`);
          }
        }),
        { numRuns: 300 },
      );
    });
  }

  it('pan methods keep what PCI DSS allows and no more', () => {
    const last4 = resolveMethod('pan_last4');
    expect(last4.applyBytes(Buffer.from('4111 1111 1111 1111'))!.toString()).toBe(
      '**** **** **** 1111',
    );
    // Too short to keep both ends without showing it whole: every digit goes.
    expect(last4.applyBytes(Buffer.from('1234'))!.toString()).toBe('****');
  });
});
