// The card-number detector shared by statement text scrubbing and the masking backstop.
import { describe, expect, it } from 'vitest';
import {
  CARD_NUMBER_TOKEN,
  findCardNumbers,
  luhnValid,
  maskCardNumbers,
} from '../../src/masking/detect.js';

/** Completes `prefix` with the check digit that makes it Luhn-valid. */
function withCheckDigit(prefix: string): string {
  for (let d = 0; d <= 9; d++) if (luhnValid(prefix + d)) return prefix + d;
  throw new Error('unreachable');
}

const found = (text: string) => findCardNumbers(text).map((r) => text.slice(r.start, r.end));

describe('findCardNumbers', () => {
  it.each([
    ['4111111111111111', 'Visa, unbroken'],
    ['4111 1111 1111 1111', 'spaces'],
    ['4111-1111-1111-1111', 'dashes'],
    ['378282246310005', 'Amex, 15 digits'],
    ['3782 822463 10005', 'Amex grouping 4-6-5'],
    ['5500 0000 0000 0004', 'Mastercard'],
    ['4222222222222', '13-digit Visa'],
    ['6000000000000000004', '19 digits'],
  ])('finds %s (%s)', (card) => {
    expect(found(`pan=${card};`)).toEqual([card]);
  });

  it.each([
    ['4111111111111112', 'fails Luhn'],
    ['411111111111', '12 digits'],
    ['41111111111111111110', '20 digits, though it starts with a valid card number'],
    ['4111  1111 1111 1111', 'double space'],
    ['4111 1111-1111 1111', 'mixed separators'],
    ['41 11 11 11 11 11 11 11', 'groups shorter than three digits'],
    ['0000000000000000', 'leading zero'],
    ['2024-01-15 10:30:00.123456', 'a timestamp'],
  ])('ignores %s (%s)', (text) => {
    expect(found(text)).toEqual([]);
  });

  // A card number is masked wherever it sits: as a fraction's digits or a decimal's integer
  // part it still reads in the clear.
  it.each([
    ['0.4111111111111111', '4111111111111111'],
    ['4111111111111111.5', '4111111111111111'],
    ['0,0 4111111111111111', '4111111111111111'],
  ])('finds the card number in %s', (text, card) => {
    expect(found(text)).toEqual([card]);
  });

  it('ignores Luhn-valid epoch timestamps in milliseconds and microseconds', () => {
    const ms = withCheckDigit('173324160000');
    const us = withCheckDigit('173324160000000');
    expect(luhnValid(ms) && luhnValid(us)).toBe(true);
    expect(found(`${ms} ${us}`)).toEqual([]);
  });

  it('finds a card followed by other digit groups, and several cards in one text', () => {
    expect(found('4111 1111 1111 1111 2024')).toEqual(['4111 1111 1111 1111']);
    expect(found('a 4111111111111111 b 5500-0000-0000-0004 c')).toEqual([
      '4111111111111111',
      '5500-0000-0000-0004',
    ]);
  });
});

describe('maskCardNumbers', () => {
  it('replaces each card number with the fixed token and leaves the rest', () => {
    expect(maskCardNumbers("x '4111 1111 1111 1111', y 378282246310005 z 12345")).toBe(
      `x '${CARD_NUMBER_TOKEN}', y ${CARD_NUMBER_TOKEN} z 12345`,
    );
  });

  it('returns the same string when there is nothing to mask', () => {
    const text = 'SELECT 1234567890123 FROM t';
    expect(maskCardNumbers(text)).toBe(text);
  });
});
