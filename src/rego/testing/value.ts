/**
 * A lossless model of Rego values for comparing results outside the Wasm module: the test
 * runner, the conformance runner and the property tests all read raw result text into this
 * model, so numbers beyond 2^53 and sets survive, and compare values with OPA's total order
 * (null < boolean < number < string < array < object < set).
 */
import { PgwardenError } from '../../errors.js';
import { compareNumbers, normalizeNumber } from './number.js';

/** A Rego value. Objects and sets are kept sorted by key / element, so equality is order-free. */
export type RValue =
  | { readonly t: 'null' }
  | { readonly t: 'bool'; readonly v: boolean }
  | { readonly t: 'num'; readonly v: string }
  | { readonly t: 'str'; readonly v: string }
  | { readonly t: 'arr'; readonly v: readonly RValue[] }
  | { readonly t: 'obj'; readonly v: ReadonlyArray<readonly [RValue, RValue]> }
  | { readonly t: 'set'; readonly v: readonly RValue[] }
  | { readonly t: 'undef' };

const TYPE_RANK: Record<RValue['t'], number> = {
  undef: -1,
  null: 0,
  bool: 1,
  num: 2,
  str: 3,
  arr: 4,
  obj: 5,
  set: 6,
};

/** The null value. */
export const NULL: RValue = { t: 'null' };
/** The undefined marker (regorus' `#undefined`); never produced by a policy result. */
export const UNDEFINED: RValue = { t: 'undef' };

/** A boolean value. */
export function bool(v: boolean): RValue {
  return { t: 'bool', v };
}

/** A number from its decimal text (JSON number syntax); throws on anything else. */
export function num(text: string | number | bigint): RValue {
  return { t: 'num', v: normalizeNumber(String(text)) };
}

/** A string value. */
export function str(v: string): RValue {
  return { t: 'str', v };
}

/** An array value. */
export function arr(items: readonly RValue[]): RValue {
  return { t: 'arr', v: items };
}

/** An object value; entries are sorted and a repeated key keeps the last value. */
export function obj(entries: ReadonlyArray<readonly [RValue, RValue]>): RValue {
  const sorted = [...entries].sort((a, b) => compareValues(a[0], b[0]));
  const out: Array<readonly [RValue, RValue]> = [];
  for (const e of sorted) {
    const last = out[out.length - 1];
    if (last && compareValues(last[0], e[0]) === 0) out[out.length - 1] = e;
    else out.push(e);
  }
  return { t: 'obj', v: out };
}

/** A set value; elements are sorted and deduplicated. */
export function set(items: readonly RValue[]): RValue {
  return { t: 'set', v: sortUnique(items) };
}

/** Sorts values with OPA's order and drops duplicates. */
export function sortUnique(items: readonly RValue[]): RValue[] {
  const sorted = [...items].sort(compareValues);
  return sorted.filter((v, i) => i === 0 || compareValues(sorted[i - 1] as RValue, v) !== 0);
}

/**
 * OPA's total order on values: by type rank first, then numbers by value, strings by code
 * point (OPA compares Go strings bytewise, which for UTF-8 is code point order), arrays
 * element-wise then by length, objects by their sorted keys and values pairwise then by size,
 * sets by their sorted elements then by size.
 */
export function compareValues(a: RValue, b: RValue): number {
  if (a.t !== b.t) return TYPE_RANK[a.t] - TYPE_RANK[b.t];
  switch (a.t) {
    case 'null':
    case 'undef':
      return 0;
    case 'bool':
      return Number(a.v) - Number((b as typeof a).v);
    case 'num':
      return compareNumbers(a.v, (b as typeof a).v);
    case 'str':
      return compareCodePoints(a.v, (b as typeof a).v);
    case 'arr':
    case 'set':
      return compareSequences(a.v, (b as typeof a).v);
    case 'obj': {
      const bv = (b as typeof a).v;
      const n = Math.min(a.v.length, bv.length);
      for (let i = 0; i < n; i++) {
        const [ak, av] = a.v[i] as readonly [RValue, RValue];
        const [bk, bvv] = bv[i] as readonly [RValue, RValue];
        const c = compareValues(ak, bk) || compareValues(av, bvv);
        if (c !== 0) return c;
      }
      return a.v.length - bv.length;
    }
  }
}

function compareSequences(a: readonly RValue[], b: readonly RValue[]): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const c = compareValues(a[i] as RValue, b[i] as RValue);
    if (c !== 0) return c;
  }
  return a.length - b.length;
}

/** Compares strings by Unicode code point (JavaScript's `<` compares UTF-16 units). */
export function compareCodePoints(a: string, b: string): number {
  if (a === b) return 0;
  const ai = a[Symbol.iterator]();
  const bi = b[Symbol.iterator]();
  for (;;) {
    const x = ai.next();
    const y = bi.next();
    if (x.done || y.done) return x.done ? (y.done ? 0 : -1) : 1;
    const d = (x.value.codePointAt(0) ?? 0) - (y.value.codePointAt(0) ?? 0);
    if (d !== 0) return d;
  }
}

/** True when both values are equal under OPA's order (so `1` equals `1.0`). */
export function valuesEqual(a: RValue, b: RValue): boolean {
  return compareValues(a, b) === 0;
}

/** Converts a plain JavaScript value (JSON-like, bigint allowed) into a Rego value. */
export function fromJs(v: unknown): RValue {
  if (v === null) return NULL;
  if (typeof v === 'boolean') return bool(v);
  if (typeof v === 'number' || typeof v === 'bigint') return num(v);
  if (typeof v === 'string') return str(v);
  if (Array.isArray(v)) return arr(v.map(fromJs));
  if (v instanceof Set) return set([...v].map(fromJs));
  if (typeof v === 'object') {
    return obj(Object.entries(v).map(([k, x]) => [str(k), fromJs(x)] as const));
  }
  throw new PgwardenError('ERR_INTERNAL', `cannot convert a ${typeof v} to a Rego value`);
}

/**
 * Renders a value as Rego text (sets as `{...}`, `set()` when empty); JSON when the value has
 * no sets and only string keys. Object entries come out in sorted key order.
 */
export function formatValue(v: RValue): string {
  switch (v.t) {
    case 'null':
      return 'null';
    case 'undef':
      return '#undefined';
    case 'bool':
      return String(v.v);
    case 'num':
      return v.v;
    case 'str':
      return JSON.stringify(v.v);
    case 'arr':
      return `[${v.v.map(formatValue).join(', ')}]`;
    case 'obj':
      return `{${v.v.map(([k, x]) => `${formatValue(k)}: ${formatValue(x)}`).join(', ')}}`;
    case 'set':
      return v.v.length === 0 ? 'set()' : `{${v.v.map(formatValue).join(', ')}}`;
  }
}

/** True when the value can be written as JSON without loss (no sets, string keys only). */
export function isJsonValue(v: RValue): boolean {
  switch (v.t) {
    case 'undef':
    case 'set':
      return false;
    case 'arr':
      return v.v.every(isJsonValue);
    case 'obj':
      return v.v.every(([k, x]) => k.t === 'str' && isJsonValue(x));
    default:
      return true;
  }
}

/**
 * Converts a value to the JSON shape OPA gives results (its `ast.JSON`): sets become arrays in
 * sorted order, non-string object keys become their compact JSON text. Numbers keep their text.
 */
export function toJsonShape(v: RValue): RValue {
  switch (v.t) {
    case 'arr':
      return arr(v.v.map(toJsonShape));
    case 'set':
      return arr(v.v.map(toJsonShape));
    case 'obj':
      return obj(v.v.map(([k, x]) => [str(keyText(k)), toJsonShape(x)] as const));
    default:
      return v;
  }
}

function keyText(k: RValue): string {
  return k.t === 'str' ? k.v : toJsonText(toJsonShape(k));
}

/** Writes a JSON-shaped value as compact JSON text, numbers exactly as held. */
export function toJsonText(v: RValue): string {
  switch (v.t) {
    case 'null':
    case 'undef':
      return 'null';
    case 'bool':
      return String(v.v);
    case 'num':
      return v.v;
    case 'str':
      return JSON.stringify(v.v);
    case 'arr':
    case 'set':
      return `[${v.v.map(toJsonText).join(',')}]`;
    case 'obj':
      return `{${v.v.map(([k, x]) => `${JSON.stringify(keyText(k))}:${toJsonText(x)}`).join(',')}}`;
  }
}
