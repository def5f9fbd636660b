/** A host builtin: JSON arguments in, a JSON result out (`undefined` = undefined result). */
export type HostBuiltin = (...args: unknown[]) => unknown;

/** True for a JSON object (not an array, not null). */
export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
