/**
 * Host builtins over Rego values, sets and non-string keys included: json.patch, json.filter,
 * json.remove, array.flatten and object.union_n. The SDK hands host builtins JSON, where a set
 * is an array, so the module passes these their arguments as Rego value text and reads their
 * result back the same way (`rt_value_text` / `rt_value_from_text`). In a set, as in OPA, a
 * path segment addresses the member equal to it.
 */
import { parseRegoValue } from '../testing/parse.js';
import { arr, formatValue, obj, set, str, valuesEqual, type RValue } from '../testing/value.js';
import type { HostBuiltin } from './types.js';

/** The document after its root was removed (undefined unless a root `add` follows). */
const ROOT_GONE: RValue = { t: 'undef' };

/** RFC 6901 pointer text, or an array of segments, into segments. */
function segments(path: RValue | undefined): RValue[] | undefined {
  if (path?.t === 'arr') return [...path.v];
  if (path?.t !== 'str') return undefined;
  if (path.v === '') return [];
  if (!path.v.startsWith('/')) return undefined;
  return path.v
    .slice(1)
    .split('/')
    .map((s) => str(s.replace(/~1/g, '/').replace(/~0/g, '~')));
}

/** An array index from a segment: digits as text or an integer number; `-` is the end. */
function index(seg: RValue, length: number, forAdd: boolean): number | undefined {
  if (forAdd && seg.t === 'str' && seg.v === '-') return length;
  const text = seg.t === 'str' || seg.t === 'num' ? seg.v : '';
  if (!/^\d+$/.test(text)) return undefined;
  const i = Number(text);
  return i < length || (forAdd && i === length) ? i : undefined;
}

function field(o: RValue, name: string): RValue | undefined {
  if (o.t !== 'obj') return undefined;
  return o.v.find(([k]) => k.t === 'str' && k.v === name)?.[1];
}

/** The child of `doc` at one segment, if any. */
function child(doc: RValue, seg: RValue): RValue | undefined {
  switch (doc.t) {
    case 'obj':
      return doc.v.find(([k]) => valuesEqual(k, seg))?.[1];
    case 'arr': {
      const i = index(seg, doc.v.length, false);
      return i === undefined ? undefined : doc.v[i];
    }
    case 'set':
      return doc.v.find((m) => valuesEqual(m, seg));
    default:
      return undefined;
  }
}

function get(doc: RValue, path: readonly RValue[]): RValue | undefined {
  let cur: RValue | undefined = doc;
  for (const seg of path) {
    cur = cur === undefined ? undefined : child(cur, seg);
  }
  return cur;
}

type Op = 'add' | 'remove' | 'replace';

/** `doc` with one mutation at `path`; undefined when it does not apply. */
function mutate(doc: RValue, path: readonly RValue[], op: Op, value: RValue): RValue | undefined {
  const [seg, ...rest] = path;
  if (seg === undefined) return op === 'remove' ? ROOT_GONE : value;
  if (rest.length > 0) {
    const inner = child(doc, seg);
    const changed = inner === undefined ? undefined : mutate(inner, rest, op, value);
    return changed === undefined ? undefined : replaceChild(doc, seg, changed);
  }
  switch (doc.t) {
    case 'obj': {
      const kept = doc.v.filter(([k]) => !valuesEqual(k, seg));
      const had = kept.length < doc.v.length;
      if (op !== 'add' && !had) return undefined;
      return obj(op === 'remove' ? kept : [...kept, [seg, value]]);
    }
    case 'arr': {
      const i = index(seg, doc.v.length, op === 'add');
      if (i === undefined) return undefined;
      const items = [...doc.v];
      if (op === 'add') items.splice(i, 0, value);
      else if (op === 'remove') items.splice(i, 1);
      else items[i] = value;
      return arr(items);
    }
    case 'set': {
      // A set member is its own path: `add` inserts the value, the others need the member.
      if (op === 'add') return set([...doc.v, value]);
      const kept = doc.v.filter((m) => !valuesEqual(m, seg));
      if (kept.length === doc.v.length) return undefined;
      return set(op === 'remove' ? kept : [...kept, value]);
    }
    default:
      return undefined;
  }
}

/** `doc` with the child at `seg` (which exists) replaced by `value`. */
function replaceChild(doc: RValue, seg: RValue, value: RValue): RValue | undefined {
  if (doc.t === 'set') return set([...doc.v.filter((m) => !valuesEqual(m, seg)), value]);
  return mutate(doc, [seg], 'replace', value);
}

function applyPatch(target: RValue, patches: RValue): RValue | undefined {
  if (patches.t !== 'arr') return undefined;
  let doc = target;
  for (const p of patches.v) {
    const op = field(p, 'op');
    const path = segments(field(p, 'path'));
    if (op?.t !== 'str' || path === undefined) return undefined;
    if (doc === ROOT_GONE && !(op.v === 'add' && path.length === 0)) return undefined;
    let next: RValue | undefined;
    switch (op.v) {
      case 'add':
      case 'replace': {
        const value = field(p, 'value');
        next = value === undefined ? undefined : mutate(doc, path, op.v, value);
        break;
      }
      case 'remove':
        next = mutate(doc, path, 'remove', ROOT_GONE);
        break;
      case 'move':
      case 'copy': {
        const from = segments(field(p, 'from'));
        const value = from === undefined ? undefined : get(doc, from);
        if (from === undefined || value === undefined) return undefined;
        let base: RValue | undefined = doc;
        if (op.v === 'move') {
          const inside =
            path.length > from.length && from.every((s, i) => valuesEqual(s, path[i]!));
          base = inside ? undefined : mutate(doc, from, 'remove', ROOT_GONE);
        }
        next = base === undefined ? undefined : mutate(base, path, 'add', value);
        break;
      }
      case 'test': {
        const value = field(p, 'value');
        const found = get(doc, path);
        next =
          value !== undefined && found !== undefined && valuesEqual(found, value) ? doc : undefined;
        break;
      }
      default:
        return undefined;
    }
    if (next === undefined) return undefined;
    doc = next;
  }
  return doc === ROOT_GONE ? undefined : doc;
}

/** Filter paths: `"a/b"` text or arrays of segments, in an array or a set. */
function filterPaths(arg: RValue): RValue[][] | undefined {
  if (arg.t !== 'arr' && arg.t !== 'set') return undefined;
  const out: RValue[][] = [];
  for (const p of arg.v) {
    if (p.t === 'str') {
      out.push(
        p.v
          .replace(/^\//, '')
          .split('/')
          .filter((s) => s !== '')
          .map(str),
      );
    } else if (p.t === 'arr') out.push([...p.v]);
    else return undefined;
  }
  return out;
}

/**
 * Keeps what the paths name. As in OPA, object keys and set members match by value, array
 * elements by their index written as text ("0", not 0).
 */
function filterDoc(doc: RValue, keep: RValue[][]): RValue {
  if (keep.some((p) => p.length === 0)) return doc;
  const under = (seg: RValue): RValue[][] =>
    keep.filter((p) => valuesEqual(p[0]!, seg)).map((p) => p.slice(1));
  switch (doc.t) {
    case 'obj': {
      const entries: Array<[RValue, RValue]> = [];
      for (const [k, v] of doc.v) {
        const sub = under(k);
        if (sub.length > 0) entries.push([k, filterDoc(v, sub)]);
      }
      return obj(entries);
    }
    case 'arr': {
      const items: RValue[] = [];
      doc.v.forEach((v, i) => {
        const sub = under(str(String(i)));
        if (sub.length > 0) items.push(filterDoc(v, sub));
      });
      return arr(items);
    }
    case 'set': {
      const members: RValue[] = [];
      for (const m of doc.v) {
        const sub = under(m);
        if (sub.length > 0) members.push(filterDoc(m, sub));
      }
      return set(members);
    }
    default:
      return doc;
  }
}

/**
 * Drops what the paths name. Object keys and set members match by value, array elements by
 * their index (as text or as a number).
 */
function removeDoc(doc: RValue, drop: RValue[][]): RValue {
  const under = (matches: (seg: RValue) => boolean): RValue[][] | 'gone' => {
    const sub = drop.filter((p) => matches(p[0]!));
    return sub.some((p) => p.length === 1) ? 'gone' : sub.map((p) => p.slice(1));
  };
  switch (doc.t) {
    case 'obj': {
      const entries: Array<[RValue, RValue]> = [];
      for (const [k, v] of doc.v) {
        const sub = under((seg) => valuesEqual(seg, k));
        if (sub !== 'gone') entries.push([k, sub.length > 0 ? removeDoc(v, sub) : v]);
      }
      return obj(entries);
    }
    case 'arr': {
      const items: RValue[] = [];
      doc.v.forEach((v, i) => {
        const sub = under((seg) => (seg.t === 'str' || seg.t === 'num') && seg.v === String(i));
        if (sub !== 'gone') items.push(sub.length > 0 ? removeDoc(v, sub) : v);
      });
      return arr(items);
    }
    case 'set': {
      const members: RValue[] = [];
      for (const m of doc.v) {
        const sub = under((seg) => valuesEqual(seg, m));
        if (sub !== 'gone') members.push(sub.length > 0 ? removeDoc(m, sub) : m);
      }
      return set(members);
    }
    default:
      return doc;
  }
}

/** object.union_n: left to right, nested objects merged, any other value replaced. */
function unionAll(objects: RValue): RValue | undefined {
  if (objects.t !== 'arr' || !objects.v.every((o) => o.t === 'obj')) return undefined;
  const merge = (a: RValue, b: RValue): RValue => {
    if (a.t !== 'obj' || b.t !== 'obj') return b;
    const entries = new Map<string, [RValue, RValue]>();
    for (const [k, v] of a.v) entries.set(formatValue(k), [k, v]);
    for (const [k, v] of b.v) {
      const old = entries.get(formatValue(k));
      entries.set(formatValue(k), [k, old === undefined ? v : merge(old[1], v)]);
    }
    return obj([...entries.values()]);
  };
  return objects.v.reduce(merge, obj([]));
}

/** Parses the Rego text arguments, runs `fn`, writes its result back as Rego text. */
function overText(fn: (...args: RValue[]) => RValue | undefined): HostBuiltin {
  return (...args) => {
    if (!args.every((a) => typeof a === 'string')) return undefined;
    const out = fn(...(args as string[]).map(parseRegoValue));
    return out === undefined ? undefined : formatValue(out);
  };
}

/**
 * The set-aware builtins by Rego name; the module reaches them under
 * {@link valueTextWireName} with Rego value text in and out.
 */
export const VALUE_TEXT_BUILTINS: Record<string, HostBuiltin> = {
  'json.patch': overText((doc, patches) => (doc && patches ? applyPatch(doc, patches) : undefined)),
  'json.filter': overText((doc, ps) => {
    const keep = ps === undefined ? undefined : filterPaths(ps);
    return doc?.t === 'obj' && keep ? filterDoc(doc, keep) : undefined;
  }),
  'json.remove': overText((doc, ps) => {
    const drop = ps === undefined ? undefined : filterPaths(ps);
    return doc?.t === 'obj' && drop ? removeDoc(doc, drop) : undefined;
  }),
  'array.flatten': overText((a) =>
    a?.t === 'arr' ? arr(a.v.flatMap((x) => (x.t === 'arr' ? x.v : [x]))) : undefined,
  ),
  'object.union_n': overText((objects) => (objects ? unionAll(objects) : undefined)),
};

/** The wire name of a set-aware builtin: apart from the JSON one a bundle by `opa` may call. */
export function valueTextWireName(name: string): string {
  return `pgwarden.values.${name}`;
}
