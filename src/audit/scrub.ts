/**
 * The trail's safety net against cardholder data: every string (and long integer) a caller hands
 * to `append` is passed through the masking module's card-number detector before the record is
 * hashed or written. The gateway masks statement text with the same detector before the policy
 * sees it, so applying it again here changes nothing it already masked and a recorded policy
 * input replays exactly; it only catches what a mistake upstream let through.
 */
import { maskCardNumbers as maskPans } from '../masking/index.js';

// A string that is exactly a hex digest (MD5, SHA-1, SHA-256, SHA-512) is evidence, not data: a
// run of digits inside it is part of the digest and must not be rewritten.
const DIGEST = /^(?:[0-9a-f]{32}|[0-9a-f]{40}|[0-9a-f]{64}|[0-9a-f]{128})$/;

/**
 * A quick pass that rules out almost every string: is there a run of 13 or more digits, single
 * spaces or dashes allowed between them? It may say yes where the detector says no, never the
 * reverse, and it runs on every string of every record, where the detector's regular expression
 * would cost more.
 */
function mayHoldCardNumber(text: string): boolean {
  let digits = 0;
  let separated = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      if (++digits >= 13) return true;
      separated = false;
    } else if ((c === 32 || c === 45) && digits > 0 && !separated) {
      separated = true;
    } else {
      digits = 0;
      separated = false;
    }
  }
  return false;
}

/** What {@link mayHoldCardNumber} looks for, as an expression (faster on long strings). */
const CARD_RUN = /\d(?:[ -]?\d){12}/;

/**
 * False when {@link maskCardNumbers} certainly returns `text` unchanged: the same early exits
 * (short text, no run of 13 digits, a hex digest), without running the detector.
 */
export function mayMask(text: string): boolean {
  return text.length >= 13 && CARD_RUN.test(text) && !DIGEST.test(text);
}

const TOKEN = '[card-number]';
const RUN = /\d+(?:[ -]\d+)*/g;

function luhn(digits: string): boolean {
  let sum = 0;
  for (let i = digits.length - 1, double = false; i >= 0; i--, double = !double) {
    let d = digits.charCodeAt(i) - 48;
    if (double && (d *= 2) > 9) d -= 9;
    sum += d;
  }
  return sum % 10 === 0;
}

/** The masking module's card rule without its context exceptions: prefix, length, Luhn. */
function isCard(digits: string): boolean {
  if (digits.length < 13 || digits.length > 19 || digits[0] === '0') return false;
  if (digits[0] === '1' && digits.length !== 15) return false;
  if (digits.length === 13 && digits[0] !== '4') return false;
  return luhn(digits);
}

/**
 * Second pass over what the masking detector left: it skips runs it takes for decimal fractions
 * (`0,0 4111111111111111` keeps the card), and the trail must not. Card numbers start and end at
 * a group boundary of the run (its ends or a separator); inside a group longer than 19 digits
 * every position is a boundary. Found numbers get the same token as the detector's.
 */
function maskMissed(text: string): string {
  return text.replace(RUN, (run) => {
    // Where a card number may start and end: char offset and digits before it.
    const starts: Array<[number, number]> = [];
    const ends: Array<[number, number]> = [];
    let count = 0;
    let groupStart = 0;
    for (let i = 0; i <= run.length; i++) {
      const c = run[i];
      if (c !== undefined && c !== ' ' && c !== '-') {
        count++;
        continue;
      }
      const long = i - groupStart > 19;
      for (let k = groupStart; k < i; k++) {
        const before = count - (i - k);
        if (k === groupStart || long) starts.push([k, before]);
        if (long && k > groupStart) ends.push([k, before]);
      }
      ends.push([i, count]);
      groupStart = i + 1;
    }
    const digits = run.replace(/[ -]/g, '');
    if (digits.length < 13) return run;
    let out = '';
    let done = 0;
    for (const [from, before] of starts) {
      if (from < done) continue;
      // Longest span first, as the masking detector does.
      for (let e = ends.length - 1; e >= 0; e--) {
        const [to, upto] = ends[e]!;
        if (to <= from || !isCard(digits.slice(before, upto))) continue;
        out += run.slice(done, from) + TOKEN;
        done = to;
        break;
      }
    }
    return out + run.slice(done);
  });
}

/**
 * Returns `text` with every card number replaced by the masking module's token: the module's
 * detector first, so text it already masked is unchanged, then {@link maskMissed}.
 */
export function maskCardNumbers(text: string): string {
  if (text.length < 13 || !mayHoldCardNumber(text) || DIGEST.test(text)) return text;
  const masked = maskPans(text);
  return mayHoldCardNumber(masked) ? maskMissed(masked) : masked;
}

/**
 * Copies a JSON-like value, masking card numbers in strings, object keys and integers of 13 or
 * more digits. Dates become ISO strings, bigints strings, functions and undefined are dropped the
 * way JSON.stringify drops them. Objects with `toJSON` are converted first.
 */
export function scrubValue(value: unknown): unknown {
  switch (typeof value) {
    case 'string':
      return maskCardNumbers(value);
    case 'number':
      if (Number.isInteger(value) && Math.abs(value) >= 1e12) {
        const text = String(value);
        const masked = maskCardNumbers(text);
        return masked === text ? value : masked;
      }
      return value;
    case 'bigint':
      return maskCardNumbers(value.toString());
    case 'object':
      return scrubObject(value);
    case 'boolean':
      return value;
    default:
      return undefined;
  }
}

function scrubObject(value: object | null): unknown {
  if (value === null) return null;
  if (Array.isArray(value)) {
    return value.map((v) => {
      const s = scrubValue(v);
      return s === undefined ? null : s;
    });
  }
  const withJson = value as { toJSON?: () => unknown };
  if (typeof withJson.toJSON === 'function') return scrubValue(withJson.toJSON());
  // No prototype: a `__proto__` key must stay an ordinary member, as in JSON.
  const out = Object.create(null) as Record<string, unknown>;
  for (const [k, v] of Object.entries(value)) {
    const s = scrubValue(v);
    const name = maskCardNumbers(k);
    // Two keys that mask to the same text: keep the first, as the trail's serialiser does.
    if (s !== undefined && !Object.hasOwn(out, name)) out[name] = s;
  }
  return out;
}
