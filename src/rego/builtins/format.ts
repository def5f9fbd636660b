/**
 * Rego's text form of values (as OPA prints them inside sprintf's %v and in print): strings
 * quoted inside collections, `[1, 2]`, `{"a": 1}`. Sets arrive from the module as arrays.
 */
import { isObject } from './types.js';

/** Key of the wrapper the module puts around numbers a double cannot hold (exact text). */
export const NUMBER_MARK = '$pgwarden.number';

/** The exact text of a wrapped big number, or undefined for any other value. */
export function exactNumberText(v: unknown): string | undefined {
  if (!isObject(v)) return undefined;
  const keys = Object.keys(v);
  const text = v[NUMBER_MARK];
  return keys.length === 1 && typeof text === 'string' ? text : undefined;
}

/** The Rego text of a JSON value; a top-level string is written bare when `bare`. */
export function regoText(v: unknown, bare = false): string {
  const exact = exactNumberText(v);
  if (exact !== undefined) return exact;
  if (typeof v === 'string') return bare ? v : JSON.stringify(v);
  if (v === null) return 'null';
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return `[${v.map((x) => regoText(x)).join(', ')}]`;
  if (isObject(v)) {
    const keys = Object.keys(v).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}: ${regoText(v[k])}`).join(', ')}}`;
  }
  return String(v);
}
