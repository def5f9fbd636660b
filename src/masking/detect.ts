/**
 * Content detection of payment card numbers (PANs): the backstop that masks what column lineage
 * missed, and the scrubber for statement text before policy and audit see it.
 *
 * A candidate is a run of 13 to 19 digits, either unbroken or in groups of at least three digits
 * joined by one kind of single separator (space or dash), that passes the Luhn check. Runs that
 * continue with more digits are not candidates (a 20-digit identifier is not a card number), and
 * neither are the digits of a decimal fraction. A 13-digit run must start with 4: the only scheme
 * that issued 13-digit numbers is Visa. Runs starting with 0, or with 1 unless 15 digits long (the
 * airline cards), are not candidates either, which keeps epoch timestamps out.
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
  if (digits.length < MIN_DIGITS) return false;
  // ISO/IEC 7812: no card starts with 0; 1 is airlines (UATP, 15 digits). Refusing other runs
  // that start with 1 keeps epoch timestamps in ms and µs (13 and 16 digits) out.
  if (digits[0] === '0') return false;
  if (digits[0] === '1' && digits.length !== 15) return false;
  if (digits.length === MIN_DIGITS && digits[0] !== '4') return false;
  return luhnValid(digits);
}

/** True when the run at [start, end) is part of a decimal number like `0.4111...` or `12,5`. */
function isFraction(text: string, start: number, end: number): boolean {
  const before = text.slice(Math.max(0, start - 2), start);
  const after = text.slice(end, end + 2);
  return /\d[.,]$/.test(before) || /^[.,]\d/.test(after);
}

/**
 * Finds card numbers in `text`. Returns their ranges as string offsets (`end` exclusive), in
 * order and not overlapping.
 */
export function findCardNumbers(text: string): Array<{ start: number; end: number }> {
  const found: Array<{ start: number; end: number }> = [];
  for (const match of text.matchAll(RUN)) {
    const run = match[0];
    const offset = match.index;
    // Cheap exit for the common case: short numbers cannot hold a card number.
    if (run.length < MIN_DIGITS) continue;
    if (isFraction(text, offset, offset + run.length)) continue;
    const groups = splitGroups(run, offset);
    let first = 0;
    while (first < groups.length) {
      let hit = -1;
      // Longest span first, so `4111 1111 1111 1111` is one match, not a shorter prefix.
      for (let last = groups.length - 1; last >= first; last--) {
        if (spanIsCard(text, groups, first, last)) {
          hit = last;
          break;
        }
      }
      if (hit >= 0) {
        found.push({ start: (groups[first] as Group).start, end: (groups[hit] as Group).end });
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
