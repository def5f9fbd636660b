/**
 * The writer's exact serialiser: RFC 8785 canonical JSON (keys sorted by UTF-16 code units,
 * ECMAScript number and string forms, no whitespace) produced in the same pass that masks card
 * numbers. Records where masking could change something are written by it; the others by the
 * faster serialiser by shape (shapes.ts), which gives the same bytes when masking changes
 * nothing. The verifier recomputes hashes with the `canonicalize` package; property tests check
 * that all three agree.
 */
import { maskCardNumbers } from './scrub.js';

function leaf(value: string | number | boolean): string {
  if (typeof value === 'number' && !Number.isFinite(value)) return 'null';
  return JSON.stringify(value);
}

// Characters JSON.stringify escapes: quote, backslash, controls and (lone) surrogates. Most
// strings have none, and quoting them directly is several times faster than JSON.stringify.
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

function quote(value: string): string {
  return NEEDS_ESCAPE.test(value) ? JSON.stringify(value) : `"${value}"`;
}

function text(value: string, scrub: boolean): string {
  return quote(scrub && value.length >= 13 ? maskCardNumbers(value) : value);
}

/** Serialises a JSON-like value canonically; `undefined` for values JSON would drop. */
export function canonicalJson(value: unknown, scrub: boolean): string | undefined {
  switch (typeof value) {
    case 'string':
      return text(value, scrub);
    case 'number':
      if (scrub && Number.isInteger(value) && Math.abs(value) >= 1e12) {
        const digits = String(value);
        const masked = maskCardNumbers(digits);
        if (masked !== digits) return JSON.stringify(masked);
      }
      return leaf(value);
    case 'boolean':
      return leaf(value);
    case 'bigint':
      return text(value.toString(), scrub);
    case 'object':
      return value === null ? 'null' : composite(value, scrub);
    default:
      return undefined;
  }
}

function composite(value: object, scrub: boolean): string | undefined {
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) {
      if (i > 0) out += ',';
      out += canonicalJson(value[i], scrub) ?? 'null';
    }
    return `${out}]`;
  }
  const withJson = value as { toJSON?: () => unknown };
  if (typeof withJson.toJSON === 'function') return canonicalJson(withJson.toJSON(), scrub);
  return members(value as Record<string, unknown>, scrub, undefined);
}

// Keys repeat from record to record; their quoted form is kept instead of re-escaped each time.
const quotedKeys = new Map<string, string>();

function quoteKey(key: string): string {
  let quoted = quotedKeys.get(key);
  if (quoted === undefined) {
    quoted = quote(key);
    if (quotedKeys.size < 10_000) quotedKeys.set(key, quoted);
  }
  return quoted;
}

/**
 * Serialises an object's members in canonical order. Keys in `trusted` are the trail's own fields
 * and are not scanned for card numbers; everything else is when `scrub` is set. `extra` holds
 * more members (the trail's own), merged in without building a combined object.
 */
export function members(
  value: Record<string, unknown>,
  scrub: boolean,
  trusted: ReadonlySet<string> | undefined,
  extra?: Record<string, unknown>,
): string {
  const keys = Object.keys(value);
  if (scrub) {
    for (const key of keys) {
      if (key.length >= 13 && maskCardNumbers(key) !== key) {
        return maskedMembers(extra ? { ...value, ...extra } : value, trusted);
      }
    }
  }
  if (extra) for (const key of Object.keys(extra)) keys.push(key);
  keys.sort();
  let out = '';
  for (const key of keys) {
    const own = trusted?.has(key) ?? false;
    const member = own && extra && Object.hasOwn(extra, key) ? extra[key] : value[key];
    const json = canonicalJson(member, scrub && !own);
    if (json === undefined) continue;
    out += `${out ? ',' : ''}${quoteKey(key)}:${json}`;
  }
  return `{${out}}`;
}

/** The slow path of {@link members}, for objects with a card number in a key. */
function maskedMembers(
  value: Record<string, unknown>,
  trusted: ReadonlySet<string> | undefined,
): string {
  // No prototype: a `__proto__` key must stay an ordinary member, as in JSON.
  const renamed = Object.create(null) as Record<string, unknown>;
  const own = new Set<string>();
  for (const key of Object.keys(value)) {
    const isOwn = trusted?.has(key) ?? false;
    const name = isOwn ? key : maskCardNumbers(key);
    // Two keys that mask to the same text would make a duplicate member; keep the first.
    if (Object.hasOwn(renamed, name)) continue;
    renamed[name] = value[key];
    if (isOwn) own.add(name);
  }
  const keys = Object.keys(renamed).sort();
  let out = '';
  for (const key of keys) {
    const json = canonicalJson(renamed[key], !own.has(key));
    if (json === undefined) continue;
    out += `${out ? ',' : ''}${JSON.stringify(key)}:${json}`;
  }
  return `{${out}}`;
}
