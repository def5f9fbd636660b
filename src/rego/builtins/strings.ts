/** String builtins that run in JavaScript: sprintf (Go's fmt verbs) and the strings.* family. */
import { exactNumberText, regoText } from './format.js';
import type { HostBuiltin } from './types.js';

function pad(s: string, width: number, left: boolean, zero: boolean): string {
  if (s.length >= width) return s;
  if (left) return s + ' '.repeat(width - s.length);
  if (zero) {
    const sign = s.startsWith('-') || s.startsWith('+') ? s[0] : '';
    return sign + '0'.repeat(width - s.length) + s.slice(sign ? 1 : 0);
  }
  return ' '.repeat(width - s.length) + s;
}

/** Go's %g: shortest representation, exponent for very large or small magnitudes. */
function formatG(n: number): string {
  if (n !== 0 && (Math.abs(n) >= 1e21 || Math.abs(n) < 1e-4)) {
    return n.toExponential().replace(/e([+-])(\d)$/, 'e$10$2');
  }
  return String(n);
}

function formatOne(verb: string, arg: unknown, flags: string, prec: number | undefined): string {
  const plus = flags.includes('+');
  const exact = exactNumberText(arg);
  if (exact !== undefined) {
    // A number beyond a double's precision: integers print exactly for %d/%v/%s, others as doubles.
    if (/^-?\d+$/.test(exact) && 'dvs'.includes(verb))
      return plus && !exact.startsWith('-') ? `+${exact}` : exact;
    if ('vs'.includes(verb)) return exact;
    return formatOne(verb, Number(exact), flags, prec);
  }
  const sign = (n: number, s: string): string => (plus && n >= 0 ? `+${s}` : s);
  switch (verb) {
    case 'v':
    case 's':
      return regoText(arg, true);
    case 'q':
      return typeof arg === 'string' ? JSON.stringify(arg) : `%!q(${regoText(arg)})`;
    case 't':
      return typeof arg === 'boolean' ? String(arg) : `%!t(${regoText(arg)})`;
    case 'd':
      if (typeof arg === 'number' && Number.isInteger(arg)) return sign(arg, String(arg));
      return `%!d(${regoText(arg)})`;
    case 'f':
    case 'F':
      if (typeof arg === 'number') return sign(arg, arg.toFixed(prec ?? 6));
      return `%!f(${regoText(arg)})`;
    case 'e':
      if (typeof arg === 'number') {
        return sign(arg, arg.toExponential(prec ?? 6).replace(/e([+-])(\d)$/, 'e$10$2'));
      }
      return `%!e(${regoText(arg)})`;
    case 'g':
      if (typeof arg === 'number')
        return sign(arg, prec === undefined ? formatG(arg) : String(Number(arg.toPrecision(prec))));
      return `%!g(${regoText(arg)})`;
    case 'x':
    case 'X': {
      let out: string;
      if (typeof arg === 'number' && Number.isInteger(arg)) out = arg.toString(16);
      else if (typeof arg === 'string') out = Buffer.from(arg, 'utf8').toString('hex');
      else return `%!${verb}(${regoText(arg)})`;
      return verb === 'X' ? out.toUpperCase() : out;
    }
    case 'o':
    case 'b':
      if (typeof arg === 'number' && Number.isInteger(arg))
        return arg.toString(verb === 'o' ? 8 : 2);
      return `%!${verb}(${regoText(arg)})`;
    default:
      return `%!${verb}(${regoText(arg)})`;
  }
}

/** sprintf with Go's verbs, flags (-, +, 0), width and precision. */
export function sprintf(format: unknown, args: unknown): string | undefined {
  if (typeof format !== 'string' || !Array.isArray(args)) return undefined;
  let argi = 0;
  const re = /%([-+0 #]*)(\d+)?(?:\.(\d+))?([a-zA-Z%])/g;
  let out = format.replace(
    re,
    (_all, flags: string, width?: string, prec?: string, verb?: string) => {
      if (verb === '%') return '%';
      if (argi >= args.length) return `%!${verb}(MISSING)`;
      const text = formatOne(
        verb ?? 'v',
        args[argi++],
        flags,
        prec === undefined ? undefined : Number(prec),
      );
      return width ? pad(text, Number(width), flags.includes('-'), flags.includes('0')) : text;
    },
  );
  if (argi < args.length) {
    out += `%!(EXTRA ${args
      .slice(argi)
      .map((a) => regoText(a, true))
      .join(', ')})`;
  }
  return out;
}

function allStrings(vs: unknown[]): vs is string[] {
  return vs.every((v) => typeof v === 'string');
}

/** Host implementations of string builtins. */
export const STRING_BUILTINS: Record<string, HostBuiltin> = {
  sprintf,
  // The module maps ASCII itself and calls these only for other text.
  lower: (s) => (typeof s === 'string' ? s.toLowerCase() : undefined),
  upper: (s) => (typeof s === 'string' ? s.toUpperCase() : undefined),
  'strings.replace_n': (patterns, s) => {
    if (typeof s !== 'string' || typeof patterns !== 'object' || patterns === null)
      return undefined;
    const entries = Object.entries(patterns as Record<string, unknown>).sort(([a], [b]) =>
      a < b ? -1 : a > b ? 1 : 0,
    );
    if (!entries.every(([, v]) => typeof v === 'string')) return undefined;
    // Go's strings.NewReplacer: one left-to-right pass, the first listed key wins at a
    // position; an empty key inserts its replacement at every position, ends included.
    const empty = entries.find(([from]) => from === '')?.[1] as string | undefined;
    const keys = entries.filter(([from]) => from !== '');
    const chars = [...s];
    let out = '';
    let i = 0;
    outer: for (;;) {
      if (empty !== undefined) out += empty;
      if (i >= chars.length) break;
      const rest = chars.slice(i).join('');
      for (const [from, to] of keys) {
        if (rest.startsWith(from)) {
          out += to as string;
          i += [...from].length;
          continue outer;
        }
      }
      out += chars[i];
      i++;
    }
    return out;
  },
  'strings.split_n': (s, sep, n) => {
    if (typeof s !== 'string' || typeof sep !== 'string' || !Number.isInteger(n)) return undefined;
    const k = n as number;
    const parts = sep === '' ? [...s] : s.split(sep);
    // A positive n keeps the first n pieces, a negative n the last |n|.
    return k >= 0 ? parts.slice(0, k) : parts.slice(Math.max(0, parts.length + k));
  },
  'strings.any_prefix_match': (search, base) => anyMatch(search, base, (s, b) => s.startsWith(b)),
  'strings.any_suffix_match': (search, base) => anyMatch(search, base, (s, b) => s.endsWith(b)),
  'strings.count': (s, sub) => {
    if (typeof s !== 'string' || typeof sub !== 'string') return undefined;
    if (sub === '') return [...s].length + 1;
    return s.split(sub).length - 1;
  },
  indexof_n: (s, sub) => {
    if (typeof s !== 'string' || typeof sub !== 'string') return undefined;
    const chars = [...s];
    const subChars = [...sub];
    const out: number[] = [];
    for (let i = 0; i + subChars.length <= chars.length; i++) {
      if (chars.slice(i, i + subChars.length).join('') === sub) out.push(i);
    }
    return out;
  },
};

function anyMatch(
  search: unknown,
  base: unknown,
  test: (s: string, b: string) => boolean,
): boolean | undefined {
  const ss = typeof search === 'string' ? [search] : search;
  const bs = typeof base === 'string' ? [base] : base;
  if (!Array.isArray(ss) || !Array.isArray(bs) || !allStrings(ss) || !allStrings(bs)) {
    return undefined;
  }
  return ss.some((s) => bs.some((b) => test(s, b)));
}
