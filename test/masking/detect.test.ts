// The card-number detector as the backstop uses it: regressions for runs it once let through,
// and the JSON-aware variant that keeps documents valid.
import { describe, expect, it } from 'vitest';
import {
  CARD_NUMBER_TOKEN,
  findCardNumbers,
  isCardDigits,
  luhnValid,
  maskCardNumbers,
  maskCardNumbersInJson,
} from '../../src/masking/detect.js';

const PAN = '4111111111111111';
const found = (text: string) => findCardNumbers(text).map((r) => text.slice(r.start, r.end));

describe('maskCardNumbers', () => {
  it.each([
    ['0.5 4111111111111111', 'a decimal fraction before the card (was left unmasked)'],
    ['0,0 4111111111111111', 'a comma decimal before the card (was left unmasked)'],
    ['0.4111111111111111', 'the card as the digits of a fraction'],
    ['4111111111111111.5', 'the card as the integer part of a decimal'],
    ['amount 12.50, card 4111-1111-1111-1111', 'after a decimal elsewhere in the text'],
    ['x4111111111111111y', 'glued to letters'],
    ['{"pan":"4111 1111 1111 1111"}', 'inside JSON'],
    ['2221 0000 0000 0009', 'a Mastercard 2-series number'],
  ])('masks %s (%s)', (text) => {
    const masked = maskCardNumbers(text);
    expect(masked).toContain(CARD_NUMBER_TOKEN);
    expect(masked.replace(/[^0-9]/g, '')).not.toContain('41111111111111');
  });

  it.each([
    ['4111111111111112', 'fails Luhn'],
    ['411111111111', '12 digits'],
    ['4111  1111 1111 1111', 'double space'],
    ['2024-01-15 10:30:00.123456', 'a timestamp'],
    ['+351 21 000 0042', 'a phone number'],
    ['0000000000000000', 'leading zero'],
    ['20240115103000125', 'a compact timestamp that passes Luhn'],
    ['41111111111111114111111111111111', 'a 32-digit run (two glued cards: lineage must see it)'],
  ])('leaves %s alone (%s)', (text) => {
    expect(maskCardNumbers(text)).toBe(text);
  });

  it('finds the longest card in a grouped run, then continues after it', () => {
    expect(found('4111 1111 1111 1111 2024')).toEqual(['4111 1111 1111 1111']);
    expect(found(`${PAN} ${PAN}`)).toEqual([PAN, PAN]);
  });

  it('knows the card prefixes and lengths', () => {
    expect(isCardDigits(PAN)).toBe(true);
    expect(isCardDigits('378282246310005')).toBe(true);
    expect(isCardDigits('0' + PAN.slice(1))).toBe(false);
    expect(luhnValid('79927398713')).toBe(true);
  });
});

describe('maskCardNumbersInJson', () => {
  it('quotes a card number that stands as a JSON number, so the document still parses', () => {
    const text = `{"p": ${PAN}, "q": "card ${PAN}", "r": [${PAN},1]}`;
    const masked = maskCardNumbersInJson(text);
    expect(JSON.parse(masked)).toEqual({
      p: CARD_NUMBER_TOKEN,
      q: `card ${CARD_NUMBER_TOKEN}`,
      r: [CARD_NUMBER_TOKEN, 1],
    });
  });
});
