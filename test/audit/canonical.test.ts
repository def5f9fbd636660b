import canonicalizeModule from 'canonicalize';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../../src/audit/canonical.js';
import { maskCardNumbers, scrubValue } from '../../src/audit/scrub.js';

type Canonicalize = (input: unknown) => string | undefined;
const canonicalize: Canonicalize =
  (canonicalizeModule as unknown as { default?: Canonicalize }).default ??
  (canonicalizeModule as unknown as Canonicalize);

const cards = ['4111111111111111', '4111 1111 1111 1111', '5500-0000-0000-0004', '378282246310005'];

/** JSON values with card numbers sprinkled into strings and keys. */
const withCards = fc.letrec((tie) => ({
  text: fc
    .tuple(fc.string(), fc.constantFrom(...cards, ''), fc.string())
    .map(([a, card, b]) => `${a} ${card} ${b}`),
  value: fc.oneof(
    { depthSize: 'small' },
    tie('text'),
    fc.jsonValue(),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(fc.oneof(fc.string(), tie('text')) as fc.Arbitrary<string>, tie('value'), {
      maxKeys: 4,
    }),
  ),
}));

describe('canonical serialiser', () => {
  it('writes the same bytes as the canonicalize package (RFC 8785)', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        expect(canonicalJson(v, false)).toBe(canonicalize(v));
      }),
      { numRuns: 500 },
    );
  });

  it('quotes strings needing escapes like JSON.stringify (fast path regression)', () => {
    const tricky = ['"', '\\', '\u0001', '\n', '\ud800', '\udc00x', '😀', '\u2028', 'é', '\u007f'];
    for (const t of tricky) {
      const v = { [t]: t, k: [`a${t}b`] };
      expect(canonicalJson(v, false)).toBe(canonicalize(v));
    }
    fc.assert(
      fc.property(
        fc.dictionary(fc.string({ unit: 'binary' }), fc.string({ unit: 'binary' })),
        (v) => {
          expect(canonicalJson(v, false)).toBe(canonicalize(v));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('masks card numbers exactly like scrubValue followed by canonicalize', () => {
    fc.assert(
      fc.property(withCards.value, (v) => {
        const ours = canonicalJson(v, true);
        expect(ours).toBe(canonicalize(scrubValue(v)));
        for (const card of cards) expect(ours).not.toContain(card);
      }),
      { numRuns: 500 },
    );
  });

  it('keeps a __proto__ key as an ordinary member, in both serialisers', () => {
    const v = JSON.parse('{"__proto__":{"4111111111111111":1},"a":"4111111111111111"}');
    expect(canonicalJson(v, true)).toBe(canonicalize(scrubValue(v)));
    expect(canonicalJson(v, true)).toBe('{"__proto__":{"[card-number]":1},"a":"[card-number]"}');
  });

  it('follows JSON for values JSON drops or cannot hold', () => {
    const date = new Date('2026-01-01T00:00:00Z');
    const v = { a: undefined, b: [undefined, () => 1], c: NaN, d: date, e: 10n };
    expect(canonicalJson(v, false)).toBe(
      '{"b":[null,null],"c":null,"d":"2026-01-01T00:00:00.000Z","e":"10"}',
    );
  });
});

describe('maskCardNumbers (the masking detector, with a fast path)', () => {
  it("masks card numbers with the masking module's token", () => {
    expect(maskCardNumbers('pan=4111111111111111;')).toBe('pan=[card-number];');
    expect(maskCardNumbers('4111 1111 1111 1111')).toBe('[card-number]');
    expect(maskCardNumbers('x 6011000990139424 y')).toBe('x [card-number] y');
    expect(maskCardNumbers('12345 4111111111111111 6789')).toBe('12345 [card-number] 6789');
  });

  it('leaves other numbers and digests alone', () => {
    expect(maskCardNumbers('order 4111111111111112')).toBe('order 4111111111111112');
    expect(maskCardNumbers('1733251234567')).toBe('1733251234567');
    const digest = `${'ab'.repeat(12)}4111111111111111${'cd'.repeat(12)}`;
    expect(digest).toHaveLength(64);
    expect(maskCardNumbers(digest)).toBe(digest);
  });

  it('also masks what the detector takes for a decimal fraction', () => {
    expect(maskCardNumbers('0,0 4111111111111111 x')).toBe('0,0 [card-number] x');
    expect(maskCardNumbers('0.5 4111 1111 1111 1111')).toBe('0.5 [card-number]');
    expect(maskCardNumbers('0.5 12345678901234567890123 4111111111111111')).not.toContain(
      '4111111111111111',
    );
    expect(maskCardNumbers('1.5 1733251234567890')).toBe('1.5 1733251234567890');
  });

  it('is idempotent, so text the gateway masked is recorded unchanged', () => {
    const once = maskCardNumbers("WHERE pan = '4111111111111111'");
    expect(maskCardNumbers(once)).toBe(once);
  });
});
