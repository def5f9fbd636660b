/**
 * Content detection of payment card numbers (PANs): the backstop that masks what column lineage
 * missed, and the scrubber for statement text before policy and audit see it.
 *
 * A run is a maximal sequence of digit groups joined by single spaces or dashes. A candidate is
 * a span of whole groups of that run, 13 to 19 digits long, either one group or groups of at
 * least three digits joined by one kind of separator, that passes the Luhn check. Where a run
 * sits does not matter: after a decimal point, inside a word or a JSON document, a Luhn-valid
 * run is masked (an earlier rule that skipped "decimal fractions" let `0.5 4111...` through).
 *
 * A group is taken whole: a card number glued to other digits (`pan || pan`, 32 digits) is not
 * found. Looking inside long groups as well was measured (bench/masking.mjs) to flag 99% of
 * random 20-40 digit numbers, while a value built that way can only come from an expression
 * lineage cannot see (an opaque function), which could as well return the number in base64;
 * the fix for those is lineage, not this detector.
 *
 * To keep false positives low, the issuer prefixes of ISO/IEC 7812 narrow the candidates: no
 * card number starts with 0; one starting with 1 must be 15 digits long (airline cards), which
 * keeps epoch timestamps in ms and µs out; one starting with 2 must be a 16-digit Mir
 * (2200-2204) or Mastercard (2221-2720) number, which keeps compact timestamps (`2024...`) out;
 * a 13-digit one must start with 4 (only Visa issued 13-digit numbers).
 */

/** The token that replaces a detected card number. Contains no digits, so it is never re-found. */
export const CARD_NUMBER_TOKEN = '[card-number]';

const MIN_DIGITS = 13;
const MAX_DIGITS = 19;
const MIN_GROUP = 3;

/** Digit groups joined by single spaces or dashes; each match is examined group by group. */
const RUN = /\d+(?:[ -]\d+)*/g;

/** True when the digits pass the Luhn (mod 10) check. */
export function luhnValid(digits: string): boolean {
  let sum = 0;
  let double = false;
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return sum % 10 === 0;
}

/** True when `digits` (separators removed) may be a card number: length, prefix and Luhn. */
export function isCardDigits(digits: string): boolean {
  if (digits.length < MIN_DIGITS || digits.length > MAX_DIGITS) return false;
  if (digits[0] === '0') return false;
  if (digits[0] === '1' && digits.length !== 15) return false;
  if (digits.length === MIN_DIGITS && digits[0] !== '4') return false;
  if (digits[0] === '2' && !twoSeries(digits)) return false;
  return luhnValid(digits);
}

/** Mir (2200-2204) and Mastercard's 2-series (2221-2720), both 16 digits. */
function twoSeries(digits: string): boolean {
  if (digits.length !== 16) return false;
  const prefix = Number(digits.slice(0, 4));
  return (prefix >= 2200 && prefix <= 2204) || (prefix >= 2221 && prefix <= 2720);
}

interface Group {
  start: number;
  end: number;
  /** Separator before this group ('' for the first group of a run). */
  sep: string;
}

function splitGroups(run: string, offset: number): Group[] {
  const groups: Group[] = [];
  let start = 0;
  let sep = '';
  for (let i = 0; i <= run.length; i++) {
    const ch = run[i];
    if (ch === undefined || ch === ' ' || ch === '-') {
      groups.push({ start: offset + start, end: offset + i, sep });
      sep = ch ?? '';
      start = i + 1;
    }
  }
  return groups;
}

/** Checks whether the groups first..last (inclusive) form a card number. */
function spanIsCard(text: string, groups: Group[], first: number, last: number): boolean {
  let digits = '';
  for (let g = first; g <= last; g++) {
    const group = groups[g] as Group;
    const len = group.end - group.start;
    if (first !== last && len < MIN_GROUP) return false;
    if (g > first && group.sep !== (groups[first + 1] as Group).sep) return false;
    digits += text.slice(group.start, group.end);
    if (digits.length > MAX_DIGITS) return false;
  }
  return isCardDigits(digits);
}

type Range = { start: number; end: number };

/**
 * Finds card numbers in `text`. Returns their ranges as string offsets (`end` exclusive), in
 * order and not overlapping.
 */
export function findCardNumbers(text: string): Range[] {
  const found: Range[] = [];
  for (const match of text.matchAll(RUN)) {
    const run = match[0];
    // Cheap exit for the common case: short numbers cannot hold a card number.
    if (run.length < MIN_DIGITS) continue;
    const groups = splitGroups(run, match.index);
    let first = 0;
    while (first < groups.length) {
      const group = groups[first] as Group;
      let hit = -1;
      // Longest span first, so `4111 1111 1111 1111` is one match, not a shorter prefix.
      for (let last = groups.length - 1; last >= first; last--) {
        if (spanIsCard(text, groups, first, last)) {
          hit = last;
          break;
        }
      }
      if (hit >= 0) {
        found.push({ start: group.start, end: (groups[hit] as Group).end });
        first = hit + 1;
      } else {
        first++;
      }
    }
  }
  return found;
}

/** Replaces every card number in `text` with {@link CARD_NUMBER_TOKEN}. */
export function maskCardNumbers(text: string): string {
  const ranges = findCardNumbers(text);
  if (ranges.length === 0) return text;
  let out = '';
  let at = 0;
  for (const range of ranges) {
    out += text.slice(at, range.start) + CARD_NUMBER_TOKEN;
    at = range.end;
  }
  return out + text.slice(at);
}

const JSON_BEFORE_NUMBER = new Set(['', ' ', '\t', '\n', '\r', ':', '[', ',']);
const JSON_AFTER_NUMBER = new Set(['', ' ', '\t', '\n', '\r', ',', ']', '}']);

/**
 * Like {@link maskCardNumbers} for JSON text: a card number standing as a JSON number becomes
 * the token as a JSON string, so the document stays valid; one inside a string is replaced.
 */
export function maskCardNumbersInJson(text: string): string {
  const ranges = findCardNumbers(text);
  if (ranges.length === 0) return text;
  let out = '';
  let at = 0;
  for (const { start, end } of ranges) {
    const number =
      JSON_BEFORE_NUMBER.has(text[start - 1] ?? '') && JSON_AFTER_NUMBER.has(text[end] ?? '');
    out += text.slice(at, start) + (number ? `"${CARD_NUMBER_TOKEN}"` : CARD_NUMBER_TOKEN);
    at = end;
  }
  return out + text.slice(at);
}
