/**
 * The writer's fast serialiser: RFC 8785 canonical JSON without card-number masking, planned by
 * object shape. Records of one kind have the same keys statement after statement, so the sorted
 * member order and the quoted `"key":` prefixes of each key sequence are worked out once and
 * reused, instead of sorting and quoting the keys of every object of every record. It does not
 * mask: it notes whether masking could change any string, key or long integer of the record
 * (the same early exits as `maskCardNumbers`), and then the record takes the exact, masking
 * path of canonical.ts instead. The property tests in `test/audit/canonical.test.ts` check that
 * both give the same bytes, and the same as the `canonicalize` package.
 */
import { mayMask } from './scrub.js';

/** The trail's own members of every record, in the order {@link recordJson} takes them. */
export interface OwnFields {
  seq: number;
  time: string;
  kind: string;
  instance: string;
  prev: string;
}

const OWN_KEYS = ['seq', 'time', 'kind', 'instance', 'prev'] as const;

// Characters JSON.stringify escapes: quote, backslash, controls and (lone) surrogates. Most
// strings have none, and quoting them directly is several times faster than JSON.stringify.
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

function quote(value: string): string {
  return NEEDS_ESCAPE.test(value) ? JSON.stringify(value) : `"${value}"`;
}

/** How to write the members of objects with one sequence of keys. */
interface Plan {
  /** The keys in canonical order (UTF-16 code units). */
  keys: string[];
  /** `"key":` for the first member written, `,"key":` for the others. */
  first: string[];
  rest: string[];
  /** For records: which own field (1-based index into OWN_KEYS) a key is, 0 for the caller's. */
  own: number[] | null;
  /** False when the caller's keys repeat an own key: such records take the exact path. */
  usable: boolean;
  /** Whether masking could change one of the (caller's) keys. */
  maskable: boolean;
}

function makePlan(keys: string[], ownFrom: number): Plan {
  const order = keys.map((_, i) => i);
  order.sort((a, b) => (keys[a]! < keys[b]! ? -1 : keys[a]! > keys[b]! ? 1 : 0));
  const sorted = order.map((i) => keys[i]!);
  const first = sorted.map((k) => `${quote(k)}:`);
  let usable = true;
  for (let i = 1; i < sorted.length; i++) if (sorted[i] === sorted[i - 1]) usable = false;
  const own = ownFrom < 0 ? null : order.map((i) => (i >= ownFrom ? i - ownFrom + 1 : 0));
  const maskable = keys.some((k, i) => (ownFrom < 0 || i < ownFrom) && mayMask(k));
  return { keys: sorted, first, rest: first.map((p) => `,${p}`), own, usable, maskable };
}

/** A trie over key sequences; a node's plan is for the sequence that leads to it. */
interface Node {
  next: Map<string, Node>;
  plan: Plan | undefined;
}

const objects: Node = { next: new Map(), plan: undefined };
const records: Node = { next: new Map(), plan: undefined };
// Keys are data (column names, claim names), so the number of shapes is capped; past the cap,
// a new shape is planned for each use instead of kept.
const MAX_NODES = 20_000;
let nodes = 0;

function planFor(root: Node, keys: string[], withOwn: boolean): Plan {
  let node: Node | undefined = root;
  for (let i = 0; i < keys.length && node; i++) node = step(node, keys[i]!);
  if (withOwn) for (let i = 0; i < OWN_KEYS.length && node; i++) node = step(node, OWN_KEYS[i]!);
  if (node?.plan) return node.plan;
  const plan = withOwn ? makePlan([...keys, ...OWN_KEYS], keys.length) : makePlan(keys, -1);
  if (node) node.plan = plan;
  return plan;
}

function step(node: Node, key: string): Node | undefined {
  let next = node.next.get(key);
  if (next === undefined && nodes < MAX_NODES) {
    next = { next: new Map(), plan: undefined };
    node.next.set(key, next);
    nodes++;
  }
  return next;
}

// Set while serialising when masking could change something; read and reset by the callers.
let maskable = false;

/** Canonical JSON of a JSON-like value, unmasked; `undefined` for values JSON would drop. */
export function shapeJson(value: unknown): string | undefined {
  switch (typeof value) {
    case 'string':
      if (value.length >= 13 && !maskable && mayMask(value)) maskable = true;
      return NEEDS_ESCAPE.test(value) ? JSON.stringify(value) : `"${value}"`;
    case 'number':
      // The masking serialiser looks at integers of 13 digits and more.
      if (!maskable && Math.abs(value) >= 1e12 && Number.isInteger(value)) {
        maskable = mayMask(String(value));
      }
      // ECMAScript's Number-to-String, as JSON.stringify and RFC 8785 (section 3.2.2.3) use.
      return Number.isFinite(value) ? String(value) : 'null';
    case 'boolean':
      return value ? 'true' : 'false';
    case 'bigint': {
      const text = value.toString();
      if (!maskable && mayMask(text)) maskable = true;
      return quote(text);
    }
    case 'object':
      if (value === null) return 'null';
      return Array.isArray(value) ? arrayJson(value) : objectJson(value);
    default:
      return undefined;
  }
}

function arrayJson(value: unknown[]): string {
  if (value.length === 0) return '[]';
  let out = `[${shapeJson(value[0]) ?? 'null'}`;
  for (let i = 1; i < value.length; i++) out += `,${shapeJson(value[i]) ?? 'null'}`;
  return `${out}]`;
}

function objectJson(value: object): string | undefined {
  const withJson = value as { toJSON?: () => unknown };
  if (typeof withJson.toJSON === 'function') return shapeJson(withJson.toJSON());
  const plan = planFor(objects, Object.keys(value), false);
  if (plan.maskable) maskable = true;
  const { keys } = plan;
  const v = value as Record<string, unknown>;
  let out = '';
  for (let i = 0; i < keys.length; i++) {
    const json = shapeJson(v[keys[i]!]);
    if (json === undefined) continue;
    out += (out === '' ? plan.first[i]! : plan.rest[i]!) + json;
  }
  return `{${out}}`;
}

/**
 * Canonical JSON of a JSON-like value if masking card numbers would change nothing in it;
 * `undefined` otherwise (and for values JSON would drop).
 */
export function unmaskedJson(value: unknown): string | undefined {
  maskable = false;
  const json = shapeJson(value);
  return maskable ? undefined : json;
}

/**
 * Canonical JSON of a record: the caller's `fields` and the trail's `own` members (not masked),
 * merged in canonical order without building a combined object. `undefined` when masking could
 * change one of the caller's strings, keys or numbers, or when `fields` repeats an own key:
 * then the exact, masking serialiser must write the record.
 */
export function recordJson(fields: Record<string, unknown>, own: OwnFields): string | undefined {
  const plan = planFor(records, Object.keys(fields), true);
  if (!plan.usable || plan.maskable) return undefined;
  maskable = false;
  const { keys } = plan;
  const slots = plan.own!;
  let out = '';
  for (let i = 0; i < keys.length; i++) {
    const slot = slots[i]!;
    // The trail's own members are not masked, so they are written without the checks.
    const json = slot === 0 ? shapeJson(fields[keys[i]!]) : ownJson(own[OWN_KEYS[slot - 1]!]);
    if (json === undefined) continue;
    out += (out === '' ? plan.first[i]! : plan.rest[i]!) + json;
  }
  return maskable ? undefined : `{${out}}`;
}

function ownJson(value: string | number): string {
  return typeof value === 'number' ? String(value) : quote(value);
}
