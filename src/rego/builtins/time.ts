/**
 * time.* builtins. Times are nanoseconds since the Unix epoch; results go back as exact
 * integers. Arguments arrive as doubles, so sub-microsecond digits of a large argument are lost
 * (dates, clocks and weekdays are unaffected).
 */
import { exactInt, toBigInt } from './exact.js';
import { diffWalls, formatLayout, NAMED_LAYOUTS, parseLayout, wallClock } from './time-layout.js';
import type { HostBuiltin } from './types.js';

const WEEKDAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const RFC3339 =
  /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?([Zz]|[+-]\d{2}:\d{2})$/;

let now: bigint | undefined;

/**
 * The current time, fixed for one evaluation as OPA fixes it: an evaluation runs synchronously,
 * so the value is kept until the next microtask.
 */
function nowNs(): bigint {
  if (now === undefined) {
    now = BigInt(Date.now()) * 1_000_000n;
    queueMicrotask(() => {
      now = undefined;
    });
  }
  return now;
}

/** Parses RFC 3339 text into nanoseconds. */
export function parseRfc3339Ns(s: string): bigint | undefined {
  const m = RFC3339.exec(s);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, sec, frac, zone] = m;
  const ms = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(sec));
  if (Number.isNaN(ms)) return undefined;
  let offsetMin = 0;
  if (zone && zone !== 'Z' && zone !== 'z') {
    const sign = zone.startsWith('-') ? -1 : 1;
    offsetMin = sign * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(4, 6)));
  }
  const fracNs = BigInt((frac ?? '').padEnd(9, '0') || '0');
  const ns = (BigInt(ms) - BigInt(offsetMin) * 60_000n) * 1_000_000n + fracNs;
  // OPA's times are int64 nanoseconds: years outside about 1678..2262 do not fit.
  if (ns > 9223372036854775807n || ns < -9223372036854775808n) return undefined;
  return ns;
}

/** The wall-clock parts of a time in a zone (`[ns]` or `[ns, "Zone/Name"]`). */
function parts(arg: unknown): { date: Date; zone: string } | undefined {
  let ns: unknown = arg;
  let zone = 'UTC';
  if (Array.isArray(arg)) {
    ns = arg[0];
    if (typeof arg[1] === 'string' && arg[1] !== '') zone = arg[1] === 'Local' ? 'UTC' : arg[1];
  }
  const n = toBigInt(ns);
  if (n === undefined) return undefined;
  const ms = Number(n / 1_000_000n);
  if (zone === 'UTC') return { date: new Date(ms), zone };
  try {
    const fmt = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    const p = Object.fromEntries(fmt.formatToParts(new Date(ms)).map((x) => [x.type, x.value]));
    const local = Date.UTC(
      Number(p.year),
      Number(p.month) - 1,
      Number(p.day),
      Number(p.hour),
      Number(p.minute),
      Number(p.second),
    );
    return { date: new Date(local), zone };
  } catch {
    return undefined;
  }
}

const UNITS: Record<string, bigint> = {
  ns: 1n,
  us: 1_000n,
  µs: 1_000n,
  μs: 1_000n,
  ms: 1_000_000n,
  s: 1_000_000_000n,
  m: 60_000_000_000n,
  h: 3_600_000_000_000n,
};

/** Go's time.ParseDuration: "1h30m", "-1.5s", "300ms". */
export function parseDurationNs(s: string): bigint | undefined {
  const m = /^([+-])?((?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|μs|ms|s|m|h))+$/.exec(s);
  if (!m) return s === '0' ? 0n : undefined;
  let total = 0;
  for (const part of s.matchAll(/(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/g)) {
    total += Number(part[1]) * Number(UNITS[part[2] as string]);
  }
  const ns = BigInt(Math.round(total));
  return m[1] === '-' ? -ns : ns;
}

/** `ns` or `[ns, zone]` or `[ns, zone, layout]`, as the time builtins take their first operand. */
function timeArg(arg: unknown): { ns: bigint; zone: string; layout?: unknown } | undefined {
  const [ns, zone, layout] = Array.isArray(arg) ? arg : [arg];
  const n = toBigInt(ns);
  if (n === undefined || (zone !== undefined && typeof zone !== 'string')) return undefined;
  return {
    ns: n,
    zone: zone ?? 'UTC',
    ...(Array.isArray(arg) && arg.length > 2 ? { layout } : {}),
  };
}

/** Host implementations of time builtins. */
export const TIME_BUILTINS: Record<string, HostBuiltin> = {
  'time.now_ns': () => exactInt(nowNs()),
  'time.parse_rfc3339_ns': (s) => {
    if (typeof s !== 'string') return undefined;
    const ns = parseRfc3339Ns(s);
    return ns === undefined ? undefined : exactInt(ns);
  },
  'time.parse_duration_ns': (s) => {
    if (typeof s !== 'string') return undefined;
    const ns = parseDurationNs(s);
    return ns === undefined ? undefined : exactInt(ns);
  },
  'time.format': (arg) => {
    const t = timeArg(arg);
    if (!t) return undefined;
    const layout = t.layout === undefined ? NAMED_LAYOUTS.RFC3339Nano : t.layout;
    if (typeof layout !== 'string') return undefined;
    const wall = wallClock(t.ns, t.zone);
    return wall ? formatLayout(wall, NAMED_LAYOUTS[layout] ?? layout) : undefined;
  },
  'time.parse_ns': (layout, value) => {
    if (typeof layout !== 'string' || typeof value !== 'string') return undefined;
    const ns = parseLayout(NAMED_LAYOUTS[layout] ?? layout, value);
    return ns === undefined ? undefined : exactInt(ns);
  },
  'time.diff': (x, y) => {
    const a = timeArg(x);
    const b = timeArg(y);
    if (!a || !b) return undefined;
    const [early, late] = a.ns <= b.ns ? [a.ns, b.ns] : [b.ns, a.ns];
    const w1 = wallClock(early, a.zone);
    const w2 = wallClock(late, a.zone);
    return w1 && w2 ? diffWalls(w1, w2) : undefined;
  },
  'time.date': (arg) => {
    const p = parts(arg);
    if (!p) return undefined;
    return [p.date.getUTCFullYear(), p.date.getUTCMonth() + 1, p.date.getUTCDate()];
  },
  'time.clock': (arg) => {
    const p = parts(arg);
    if (!p) return undefined;
    return [p.date.getUTCHours(), p.date.getUTCMinutes(), p.date.getUTCSeconds()];
  },
  'time.weekday': (arg) => {
    const p = parts(arg);
    return p ? WEEKDAYS[p.date.getUTCDay()] : undefined;
  },
  'time.add_date': (ns, years, months, days) => {
    const delta = addDateDelta(ns, years, months, days);
    const n = toBigInt(ns);
    return delta === undefined || n === undefined ? undefined : exactInt(n + delta);
  },
};

/**
 * Internal builtins the generated code calls (not Rego names). time.add_date runs as
 * `ns + delta` in the module, so the exact nanoseconds of `ns` (which reach JavaScript only as a
 * double) survive: the host computes just the calendar delta.
 */
export const TIME_INTERNAL: Record<string, HostBuiltin> = {
  'pgwarden.time.add_date_delta': (ns, years, months, days) => {
    const delta = addDateDelta(ns, years, months, days);
    return delta === undefined ? undefined : exactInt(delta);
  },
};

/** Nanoseconds between `ns` and `ns` shifted by the calendar amounts (Go's AddDate). */
function addDateDelta(
  ns: unknown,
  years: unknown,
  months: unknown,
  days: unknown,
): bigint | undefined {
  {
    const n = toBigInt(ns);
    if (n === undefined || ![years, months, days].every((v) => Number.isInteger(v))) {
      return undefined;
    }
    const ms = n / 1_000_000n;
    const d = new Date(Number(ms));
    // Date.UTC normalises overflowing months and days the way Go's AddDate does.
    const shifted = Date.UTC(
      d.getUTCFullYear() + (years as number),
      d.getUTCMonth() + (months as number),
      d.getUTCDate() + (days as number),
      d.getUTCHours(),
      d.getUTCMinutes(),
      d.getUTCSeconds(),
      d.getUTCMilliseconds(),
    );
    if (!Number.isFinite(shifted)) return undefined;
    return (BigInt(shifted) - ms) * 1_000_000n;
  }
}
