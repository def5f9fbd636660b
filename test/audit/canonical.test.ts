import canonicalizeModule from 'canonicalize';
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson, members } from '../../src/audit/canonical.js';
import { RESERVED_FIELDS, sealRecord } from '../../src/audit/record.js';
import { maskCardNumbers, mayMask, scrubValue } from '../../src/audit/scrub.js';
import { shapeJson, unmaskedJson, type OwnFields } from '../../src/audit/shapes.js';

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

/** Hex digests, digit-heavy so that runs of 13 digits and more are common, some with a card. */
const digests = fc.oneof(
  fc
    .array(fc.constantFrom(...'0123456789abcdef'), { minLength: 64, maxLength: 64 })
    .map((c) => c.join('')),
  fc
    .array(fc.constantFrom(...'01234567890a'), { minLength: 40, maxLength: 40 })
    .map((c) => c.join('')),
  fc.constant(`${'ab'.repeat(12)}4111111111111111${'cd'.repeat(12)}`),
);

/** Record fields as callers pass them: card numbers, digests, long integers, odd keys. */
const fieldValues = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    withCards.text,
    digests,
    fc.jsonValue(),
    fc.constantFrom(4111111111111111, 1733251234567, -4111111111111111, 4.111111111111111e21),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(
      fc.oneof(fc.string(), withCards.text, digests, fc.constantFrom('10', '9', '__proto__')),
      tie('value'),
      { maxKeys: 5 },
    ),
  ),
}));

const ownFields = fc.record({
  seq: fc.nat(),
  time: fc.constant('2026-01-01T00:00:00.000Z'),
  kind: fc.constantFrom('decision', 'execution', 'response'),
  instance: fc.constantFrom('gw1', 'gw-4111111111111111'),
  prev: digests,
});

/** The text a record's hash covers: its line without the hash member and newline. */
function hashedText(line: string): string {
  return `${line.slice(0, line.lastIndexOf(',"hash":'))}}`;
}

describe('serialiser by shape (the fast path of sealing)', () => {
  it('writes the same bytes as the canonicalize package (RFC 8785)', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        expect(shapeJson(v)).toBe(canonicalize(v));
      }),
      { numRuns: 500 },
    );
    const tricky = JSON.parse('{"10":1,"9":{"__proto__":[1,"\\u0000"]},"b":2,"a":{"é":1,"z":2}}');
    expect(shapeJson(tricky)).toBe(canonicalize(tricky));
    // The same shape again, served from the plan cache.
    expect(shapeJson({ ...tricky, b: 3 })).toBe(canonicalize({ ...tricky, b: 3 }));
  });

  it('seals records byte for byte as the exact masking serialiser does', () => {
    fc.assert(
      fc.property(
        fc.dictionary(fc.oneof(fc.string(), withCards.text), fieldValues.value, { maxKeys: 6 }),
        ownFields,
        (fields, own: OwnFields) => {
          for (const k of Object.keys(fields)) if (RESERVED_FIELDS.has(k)) delete fields[k];
          const sealed = sealRecord(fields, own);
          const line = sealed.bytes.toString('utf8');
          const exact = members(fields, true, RESERVED_FIELDS, { ...own });
          expect(hashedText(line)).toBe(exact);
          expect(line.endsWith(`,"hash":"${sealed.hash}"}\n`)).toBe(true);
          expect(sealed.hash).toBe(createHash('sha256').update(exact).digest('hex'));
          // What a verifier recomputes from the written line.
          const parsed = JSON.parse(line) as Record<string, unknown>;
          delete parsed.hash;
          expect(canonicalize(parsed)).toBe(exact);
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('leaves the masking to the exact path whenever masking could change something', () => {
    // mayMask is the quick test: when it says no, masking returns the text unchanged.
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom(...'0123456789 -.,a') }), (t) => {
        if (!mayMask(t)) expect(maskCardNumbers(t)).toBe(t);
      }),
      { numRuns: 3000 },
    );
    fc.assert(
      fc.property(fieldValues.value, (v) => {
        const fast = unmaskedJson(v);
        if (fast !== undefined) expect(fast).toBe(canonicalJson(v, true));
      }),
      { numRuns: 1000 },
    );
    const digest = `${'ab'.repeat(12)}4111111111111111${'cd'.repeat(12)}`;
    expect(unmaskedJson({ a: digest, b: ['x'] })).toBeDefined();
    expect(unmaskedJson({ a: digest, b: ['4111 1111 1111 1111'] })).toBeUndefined();
    expect(unmaskedJson({ a: [{ n: 4111111111111111 }] })).toBeUndefined();
    expect(unmaskedJson({ a: { '4111111111111111': 1 } })).toBeUndefined();
    expect(unmaskedJson({ a: 12345n, b: 1733251234 })).toBe('{"a":"12345","b":1733251234}');
    expect(unmaskedJson({ a: 4111111111111111n })).toBeUndefined();
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
