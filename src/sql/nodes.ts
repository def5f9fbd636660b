/**
 * Small accessors for libpg-query's JSON parse tree. A node is an object with one key, the node
 * type (`{ ColumnRef: {...} }`); fields that hold a fixed struct (a RangeVar, a WindowDef) are
 * plain objects without that wrapper. False booleans and zero numbers are left out of the JSON.
 */
import type { Node } from 'libpg-query';

/** A node's body, read loosely: each handler casts it to the libpg-query type it expects. */
export type Body = Record<string, unknown>;

/** Splits a wrapped node into its type and body, or returns null for a plain struct. */
export function unwrap(node: unknown): [string, Body] | null {
  if (node === null || typeof node !== 'object' || Array.isArray(node)) return null;
  for (const key in node) {
    const first = key.charCodeAt(0);
    // Node type names start with an upper-case letter; struct fields never do.
    if (first < 65 || first > 90) return null;
    return [key, (node as Record<string, Body>)[key] as Body];
  }
  return null;
}

/** The body of `node` when it has type `type`, else undefined. */
export function as<T>(node: unknown, type: string): T | undefined {
  const entry = unwrap(node);
  return entry && entry[0] === type ? (entry[1] as T) : undefined;
}

/** The text of a `String` node (an empty string is encoded without `sval`), or undefined. */
export function str(node: unknown): string | undefined {
  const s = as<{ sval?: string }>(node, 'String');
  return s === undefined ? undefined : (s.sval ?? '');
}

/** The texts of a list of `String` nodes (qualified names, column lists). */
export function strings(list: Node[] | undefined): string[] {
  const out: string[] = [];
  for (const n of list ?? []) {
    const s = str(n);
    if (s !== undefined) out.push(s);
  }
  return out;
}

/** The integer of an `A_Const` integer node, or undefined (0 is encoded as an empty object). */
export function constInt(node: unknown): number | undefined {
  const c = as<{ ival?: { ival?: number }; isnull?: boolean }>(node, 'A_Const');
  if (!c || c.isnull || c.ival === undefined) return undefined;
  return c.ival.ival ?? 0;
}

/** The items of a `List` node. */
export function listItems(node: unknown): Node[] {
  return as<{ items?: Node[] }>(node, 'List')?.items ?? [];
}
