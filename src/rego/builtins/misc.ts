/** Remaining host builtins: units, crypto digests, semver, bits, aggregates over JSON. */
import { createHash, randomInt, randomUUID } from 'node:crypto';
import { formatDec, parseDec } from './arith.js';
import { uuidParse } from './uuid.js';
import { exactInt, rawJson } from './exact.js';
import { isObject, type HostBuiltin } from './types.js';

/** Byte unit multipliers: SI powers of 1000 and IEC powers of 1024 (`Ki`, `KiB`). */
function byteUnit(unit: string): bigint | undefined {
  const u = unit.toLowerCase().replace(/b$/, '');
  if (u === '') return 1n;
  // OPA knows units up to exa; zetta to quetta are accepted here as regorus does (see
  // docs/limitations.md), where OPA reports "byte unit zb not recognized".
  const power = 'kmgtpezyrq'.indexOf(u[0] ?? '') + 1;
  if (power === 0 || u.length > 2 || (u.length === 2 && u[1] !== 'i')) return undefined;
  return u.length === 2 ? 1024n ** BigInt(power) : 1000n ** BigInt(power);
}

/** units.parse_bytes: "10KB" -> 10000, "1KiB" -> 1024 (case-insensitive units), exact. */
function parseBytes(s: unknown): unknown {
  if (typeof s !== 'string') return undefined;
  // As OPA: no spaces anywhere in the amount; an exponent of up to six digits is part of it.
  const m = /^(-?(?:\d+(?:\.\d+)?|\.\d+)(?:[eE][+-]?\d{1,6})?)([a-zA-Z]*)$/.exec(
    s.replace(/"/g, ''),
  );
  if (!m) return undefined;
  const unit = byteUnit(m[2] ?? '');
  const value = parseDec(m[1]?.replace(/^(-?)\./, '$10.'));
  if (unit === undefined || value === undefined) return undefined;
  const bytes = (value.m * unit) / 10n ** BigInt(value.s);
  return bytes <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(bytes) : exactInt(bytes);
}

/**
 * units.parse: SI suffixes (k, M, G, T, P, E; "m" is milli) and IEC ones (Ki .. Ei), with
 * case ignored except for m/M; the result is exact (decimal text). Other suffixes fail.
 */
function parseUnits(s: unknown): unknown {
  if (typeof s !== 'string') return undefined;
  const m = /^([+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)([a-zA-Z]*)$/.exec(
    s.replace(/"/g, ''),
  );
  if (!m?.[1]) return undefined;
  const value = parseDec(m[1].replace(/^\+/, '').replace(/^(-?)\./, '$10.'));
  if (!value) return undefined;
  const suffix = m[2] ?? '';
  let scaled: { m: bigint; s: number } | undefined;
  if (suffix === '') scaled = value;
  else if (suffix === 'm') scaled = { m: value.m, s: value.s + 3 };
  else {
    const lower = suffix.toLowerCase();
    const power = 'kmgtpe'.indexOf(lower[0] ?? '') + 1;
    if (power > 0 && lower.length === 1) {
      scaled = { m: value.m * 1000n ** BigInt(power), s: value.s };
    } else if (power > 0 && lower.length === 2 && lower[1] === 'i') {
      scaled = { m: value.m * 1024n ** BigInt(power), s: value.s };
    }
  }
  return scaled ? rawJson(formatDec(scaled)) : undefined;
}

// Semantic Versioning 2.0.0: MAJOR.MINOR.PATCH[-PRERELEASE][+BUILD].
const IDENT = '(?:0|[1-9]\\d*|\\d*[a-zA-Z-][0-9a-zA-Z-]*)';
const SEMVER = new RegExp(
  `^(0|[1-9]\\d*)\\.(0|[1-9]\\d*)\\.(0|[1-9]\\d*)(?:-(${IDENT}(?:\\.${IDENT})*))?` +
    '(?:\\+([0-9a-zA-Z-]+(?:\\.[0-9a-zA-Z-]+)*))?$',
);

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

let cache: Map<string, unknown> | undefined;

/** One value per key for the current evaluation (synchronous: cleared at the next microtask). */
function perEvaluation(key: string, make: () => unknown): unknown {
  if (!cache) {
    cache = new Map();
    queueMicrotask(() => {
      cache = undefined;
    });
  }
  if (!cache.has(key)) cache.set(key, make());
  return cache.get(key);
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
  any: (xs) => (Array.isArray(xs) ? xs.some((x) => x === true) : undefined),
  all: (xs) => (Array.isArray(xs) ? xs.every((x) => x === true) : undefined),
  'opa.runtime': () => ({}),
  'uuid.parse': uuidParse,
  // Random values are fixed per key within one evaluation, as OPA caches them.
  'rand.intn': (key, n) => {
    if (typeof key !== 'string' || !Number.isInteger(n)) return undefined;
    const bound = Math.abs(n as number);
    if (bound === 0) return 0;
    return perEvaluation(`intn:${key}:${bound}`, () => randomInt(bound));
  },
  'uuid.rfc4122': (key) =>
    typeof key === 'string' ? perEvaluation(`uuid:${key}`, () => randomUUID()) : undefined,
  trace: (_note) => true,
};
