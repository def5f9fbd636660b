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

/** Returns `text` with every card number replaced by the masking module's token. */
export function maskCardNumbers(text: string): string {
  if (text.length < 13 || !mayHoldCardNumber(text) || DIGEST.test(text)) return text;
  return maskPans(text);
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
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    const s = scrubValue(v);
    const name = maskCardNumbers(k);
    // Two keys that mask to the same text: keep the first, as the trail's serialiser does.
    if (s !== undefined && !Object.hasOwn(out, name)) out[name] = s;
  }
  return out;
}
