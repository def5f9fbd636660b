/** Remaining host builtins: units, crypto digests, semver, bits, aggregates over JSON. */
import { createHash } from 'node:crypto';
import { exactInt } from './exact.js';
import { isObject, type HostBuiltin } from './types.js';

const BYTE_UNITS: Record<string, number> = {
  '': 1,
  k: 1e3,
  kb: 1e3,
  ki: 1024,
  kib: 1024,
  m: 1e6,
  mb: 1e6,
  mi: 1024 ** 2,
  mib: 1024 ** 2,
  g: 1e9,
  gb: 1e9,
  gi: 1024 ** 3,
  gib: 1024 ** 3,
  t: 1e12,
  tb: 1e12,
  ti: 1024 ** 4,
  tib: 1024 ** 4,
  p: 1e15,
  pb: 1e15,
  pi: 1024 ** 5,
  pib: 1024 ** 5,
  e: 1e18,
  eb: 1e18,
  ei: 1024 ** 6,
  eib: 1024 ** 6,
};

/** units.parse_bytes: "10KB" -> 10000, "1KiB" -> 1024 (case-insensitive units). */
function parseBytes(s: unknown): unknown {
  if (typeof s !== 'string') return undefined;
  const m = /^\s*(\d+(?:\.\d+)?|\.\d+)\s*([a-zA-Z]*)\s*$/.exec(s.replace(/"/g, ''));
  if (!m) return undefined;
  const unit = BYTE_UNITS[(m[2] ?? '').toLowerCase()];
  if (unit === undefined) return undefined;
  const value = Number(m[1]) * unit;
  return Number.isSafeInteger(Math.floor(value))
    ? Math.floor(value)
    : exactInt(BigInt(Math.floor(value)));
}

const SI: Record<string, number> = {
  '': 1,
  m: 1e-3,
  k: 1e3,
  K: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 1024,
  Mi: 1024 ** 2,
  Gi: 1024 ** 3,
  Ti: 1024 ** 4,
  Pi: 1024 ** 5,
  Ei: 1024 ** 6,
};

function parseUnits(s: unknown): number | undefined {
  if (typeof s !== 'string') return undefined;
  const m = /^\s*([+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)\s*([a-zA-Z]*)\s*$/.exec(
    s.replace(/"/g, ''),
  );
  if (!m) return undefined;
  const unit = SI[m[2] ?? ''];
  return unit === undefined ? undefined : Number(m[1]) * unit;
}

const SEMVER =
  /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$/;

function semverCompare(a: string, b: string): number | undefined {
  const x = SEMVER.exec(a);
  const y = SEMVER.exec(b);
  if (!x || !y) return undefined;
  for (let i = 1; i <= 3; i++) {
    const d = Number(x[i]) - Number(y[i]);
    if (d !== 0) return Math.sign(d);
  }
  const px = x[4];
  const py = y[4];
  if (px === undefined || py === undefined) return px === py ? 0 : px === undefined ? 1 : -1;
  const ax = px.split('.');
  const ay = py.split('.');
  for (let i = 0; i < Math.max(ax.length, ay.length); i++) {
    const p = ax[i];
    const q = ay[i];
    if (p === undefined) return -1;
    if (q === undefined) return 1;
    const np = /^\d+$/.test(p);
    const nq = /^\d+$/.test(q);
    if (np && nq && Number(p) !== Number(q)) return Math.sign(Number(p) - Number(q));
    if (np !== nq) return np ? -1 : 1;
    if (p !== q) return p < q ? -1 : 1;
  }
  return 0;
}

const ints = (...vs: unknown[]): boolean => vs.every((v) => Number.isSafeInteger(v));

function digest(alg: string): HostBuiltin {
  return (s) =>
    typeof s === 'string' ? createHash(alg).update(s, 'utf8').digest('hex') : undefined;
}

/** object.subset: every key of `sub` is in `sup` with a value that is itself a subset. */
function subset(sup: unknown, sub: unknown): boolean {
  if (isObject(sup) && isObject(sub)) {
    return Object.entries(sub).every(([k, v]) => k in sup && subset(sup[k], v));
  }
  if (Array.isArray(sup) && Array.isArray(sub)) {
    // Arrays: `sub` must appear as a contiguous run (sets, sent as arrays, approximate this).
    if (sub.length === 0) return true;
    for (let i = 0; i + sub.length <= sup.length; i++) {
      if (sub.every((v, j) => JSON.stringify(v) === JSON.stringify(sup[i + j]))) return true;
    }
    return false;
  }
  return JSON.stringify(sup) === JSON.stringify(sub);
}

/** Host implementations of the remaining builtins. */
export const MISC_BUILTINS: Record<string, HostBuiltin> = {
  'units.parse_bytes': parseBytes,
  'units.parse': parseUnits,
  'crypto.sha256': digest('sha256'),
  'crypto.sha1': digest('sha1'),
  'crypto.md5': digest('md5'),
  'semver.is_valid': (s) => typeof s === 'string' && SEMVER.test(s),
  'semver.compare': (a, b) =>
    typeof a === 'string' && typeof b === 'string' ? semverCompare(a, b) : undefined,
  'bits.and': (a, b) =>
    ints(a, b) ? Number(BigInt(a as number) & BigInt(b as number)) : undefined,
  'bits.or': (a, b) => (ints(a, b) ? Number(BigInt(a as number) | BigInt(b as number)) : undefined),
  'bits.xor': (a, b) =>
    ints(a, b) ? Number(BigInt(a as number) ^ BigInt(b as number)) : undefined,
  'bits.negate': (a) => (ints(a) ? Number(~BigInt(a as number)) : undefined),
  'bits.lsh': (a, b) =>
    ints(a, b) ? exactInt(BigInt(a as number) << BigInt(b as number)) : undefined,
  'bits.rsh': (a, b) =>
    ints(a, b) ? Number(BigInt(a as number) >> BigInt(b as number)) : undefined,
  'numbers.range_step': (a, b, step) => {
    if (!ints(a, b, step) || (step as number) <= 0) return undefined;
    const out: number[] = [];
    const [x, y, s] = [a as number, b as number, step as number];
    if (x <= y) for (let i = x; i <= y; i += s) out.push(i);
    else for (let i = x; i >= y; i -= s) out.push(i);
    return out;
  },
  'object.union_n': (objs) => {
    if (!Array.isArray(objs) || !objs.every(isObject)) return undefined;
    const merge = (
      a: Record<string, unknown>,
      b: Record<string, unknown>,
    ): Record<string, unknown> => {
      const out = { ...a };
      for (const [k, v] of Object.entries(b)) {
        const old = out[k];
        out[k] = isObject(old) && isObject(v) ? merge(old, v) : v;
      }
      return out;
    };
    return (objs as Record<string, unknown>[]).reduce(merge, {});
  },
  'object.subset': (sup, sub) => subset(sup, sub),
  any: (xs) => (Array.isArray(xs) ? xs.some((x) => x === true) : undefined),
  all: (xs) => (Array.isArray(xs) ? xs.every((x) => x === true) : undefined),
  'opa.runtime': () => ({}),
  trace: (_note) => true,
};
