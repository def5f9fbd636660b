/** JSON document builtins: json.patch (RFC 6902), json.filter, json.remove, array.flatten. */
import { isObject, type HostBuiltin } from './types.js';

type Json = unknown;

/** RFC 6901 pointer text, or an array of segments, into unescaped segments. */
function pointer(path: unknown): string[] | undefined {
  if (Array.isArray(path)) return path.map((p) => String(p));
  if (typeof path !== 'string') return undefined;
  if (path === '') return [];
  if (!path.startsWith('/')) return undefined;
  return path
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function clone<T>(v: T): T {
  return v === undefined ? v : (JSON.parse(JSON.stringify(v)) as T);
}

function equalJson(a: Json, b: Json): boolean {
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((x, i) => equalJson(x, b[i]));
  }
  if (isObject(a) && isObject(b)) {
    const ka = Object.keys(a);
    return ka.length === Object.keys(b).length && ka.every((k) => k in b && equalJson(a[k], b[k]));
  }
  return a === b;
}

function get(doc: Json, path: string[]): Json | undefined {
  let cur: Json = doc;
  for (const seg of path) {
    if (Array.isArray(cur)) {
      if (!/^\d+$/.test(seg)) return undefined;
      cur = cur[Number(seg)];
    } else if (isObject(cur)) {
      if (!Object.prototype.hasOwnProperty.call(cur, seg)) return undefined;
      cur = cur[seg];
    } else return undefined;
    if (cur === undefined) return undefined;
  }
  return cur;
}

/** Applies one mutation at `path`; returns the new document or undefined on failure. */
function mutate(
  doc: Json,
  path: string[],
  op: 'add' | 'remove' | 'replace',
  value?: Json,
): Json | undefined {
  if (path.length === 0) return op === 'remove' ? undefined : value;
  const parentPath = path.slice(0, -1);
  const key = path[path.length - 1] as string;
  const parent = get(doc, parentPath);
  if (Array.isArray(parent)) {
    const idx = key === '-' ? parent.length : /^\d+$/.test(key) ? Number(key) : -1;
    if (op === 'add') {
      if (idx < 0 || idx > parent.length) return undefined;
      parent.splice(idx, 0, value);
    } else {
      if (idx < 0 || idx >= parent.length) return undefined;
      if (op === 'remove') parent.splice(idx, 1);
      else parent[idx] = value;
    }
    return doc;
  }
  if (isObject(parent)) {
    const has = Object.prototype.hasOwnProperty.call(parent, key);
    if (op !== 'add' && !has) return undefined;
    if (op === 'remove') delete parent[key];
    else parent[key] = value;
    return doc;
  }
  return undefined;
}

function applyPatch(target: Json, patches: unknown): Json | undefined {
  if (!Array.isArray(patches)) return undefined;
  let doc = clone(target);
  for (const p of patches) {
    if (!isObject(p)) return undefined;
    const path = pointer(p.path);
    if (!path) return undefined;
    if (doc === ROOT_GONE && !(p.op === 'add' && path.length === 0)) return undefined;
    switch (p.op) {
      case 'add':
      case 'replace':
        if (!('value' in p)) return undefined;
        doc = mutate(doc, path, p.op, clone(p.value));
        break;
      case 'remove':
        // Removing the root leaves no document; only a later root `add` brings one back.
        doc = path.length === 0 ? ROOT_GONE : mutate(doc, path, 'remove');
        break;
      case 'move':
      case 'copy': {
        const from = pointer(p.from);
        if (!from) return undefined;
        const v = get(doc, from);
        if (v === undefined) return undefined;
        if (p.op === 'move') {
          if (path.length > from.length && from.every((s, i) => s === path[i])) return undefined;
          doc = mutate(doc, from, 'remove');
          if (doc === undefined) return undefined;
        }
        doc = mutate(doc, path, 'add', clone(v));
        break;
      }
      case 'test': {
        const v = get(doc, path);
        if (v === undefined || !equalJson(v, p.value)) return undefined;
        break;
      }
      default:
        return undefined;
    }
    if (doc === undefined) return undefined;
  }
  return doc === ROOT_GONE ? undefined : doc;
}

/** The document after its root was removed (undefined unless a root `add` follows). */
const ROOT_GONE = Symbol('root removed');

/** Paths as lists of segments: "a/b" strings or arrays (sets arrive as arrays). */
function paths(arg: unknown): string[][] | undefined {
  if (!Array.isArray(arg)) return undefined;
  const out: string[][] = [];
  for (const p of arg) {
    if (typeof p === 'string')
      out.push(
        p
          .replace(/^\//, '')
          .split('/')
          .filter((s) => s !== ''),
      );
    else if (Array.isArray(p)) out.push(p.map((s) => String(s)));
    else return undefined;
  }
  return out;
}

function filterDoc(doc: Json, keep: string[][]): Json {
  if (keep.some((p) => p.length === 0)) return doc;
  if (isObject(doc)) {
    const out: Record<string, Json> = {};
    for (const [k, v] of Object.entries(doc)) {
      const sub = keep.filter((p) => p[0] === k).map((p) => p.slice(1));
      if (sub.length > 0) out[k] = filterDoc(v, sub);
    }
    return out;
  }
  if (Array.isArray(doc)) {
    const out: Json[] = [];
    doc.forEach((v, i) => {
      const sub = keep.filter((p) => p[0] === String(i)).map((p) => p.slice(1));
      if (sub.length > 0) out.push(filterDoc(v, sub));
    });
    return out;
  }
  return doc;
}

function removeDoc(doc: Json, drop: string[][]): Json {
  if (isObject(doc)) {
    const out: Record<string, Json> = {};
    for (const [k, v] of Object.entries(doc)) {
      const sub = drop.filter((p) => p[0] === k);
      if (sub.some((p) => p.length === 1)) continue;
      out[k] =
        sub.length > 0
          ? removeDoc(
              v,
              sub.map((p) => p.slice(1)),
            )
          : v;
    }
    return out;
  }
  if (Array.isArray(doc)) {
    const out: Json[] = [];
    doc.forEach((v, i) => {
      const sub = drop.filter((p) => p[0] === String(i));
      if (sub.some((p) => p.length === 1)) return;
      out.push(
        sub.length > 0
          ? removeDoc(
              v,
              sub.map((p) => p.slice(1)),
            )
          : v,
      );
    });
    return out;
  }
  return doc;
}

/** One level of nesting, as OPA's array.flatten. */
function flatten(a: Json[]): Json[] {
  return a.flatMap((x) => (Array.isArray(x) ? x : [x]));
}

/** Host implementations of JSON document builtins. */
export const JSON_BUILTINS: Record<string, HostBuiltin> = {
  'json.patch': (doc, patches) => applyPatch(doc, patches),
  'json.filter': (doc, ps) => {
    const keep = paths(ps);
    return isObject(doc) && keep ? filterDoc(doc, keep) : undefined;
  },
  'json.remove': (doc, ps) => {
    const drop = paths(ps);
    return isObject(doc) && drop ? removeDoc(doc, drop) : undefined;
  },
  'array.flatten': (a) => (Array.isArray(a) ? flatten(a) : undefined),
};
