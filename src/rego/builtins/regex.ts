/**
 * Regular expressions with RE2 syntax (as OPA's Go regexp), through re2js, and glob matching.
 * Compiled patterns are cached: policies use a handful of constant patterns.
 */
import { RE2JS } from 're2js';
import type { HostBuiltin } from './types.js';

const cache = new Map<string, RE2JS | null>();

/** The compiled pattern, or null when it is not valid RE2 syntax. */
function compile(pattern: unknown): RE2JS | null {
  if (typeof pattern !== 'string') return null;
  let re = cache.get(pattern);
  if (re === undefined) {
    try {
      re = RE2JS.compile(pattern);
    } catch {
      re = null;
    }
    if (cache.size > 1000) cache.clear();
    cache.set(pattern, re);
  }
  return re;
}

/** All matches (with groups), at most `n` when n >= 0, as Go's FindAllStringSubmatch. */
function matches(re: RE2JS, s: string, n: number): RegExpMatchArray[] {
  const out: RegExpMatchArray[] = [];
  if (n === 0) return out;
  for (const m of re.matchAll(s)) {
    out.push(m);
    if (n > 0 && out.length >= n) break;
  }
  return out;
}

function count(n: unknown): number | undefined {
  return typeof n === 'number' && Number.isInteger(n) ? n : undefined;
}

/** Go's regexp Expand: $1, ${1}, ${name}, $$. */
function expand(template: string, m: RegExpMatchArray, names: Record<string, number>): string {
  return template.replace(
    /\$(\$|\{([A-Za-z0-9_]+)\}|([A-Za-z0-9_]+))/g,
    (all, _t, braced, bare) => {
      if (all === '$$') return '$';
      const name = (braced ?? bare) as string;
      const idx = /^\d+$/.test(name) ? Number(name) : names[name];
      return idx === undefined ? '' : (m[idx] ?? '');
    },
  );
}

const regexMatch: HostBuiltin = (pattern, s) => {
  const re = compile(pattern);
  if (!re || typeof s !== 'string') return undefined;
  return re.test(s);
};

/** Host implementations of the regex and glob builtins. */
export const REGEX_BUILTINS: Record<string, HostBuiltin> = {
  'regex.match': regexMatch,
  re_match: regexMatch,
  'regex.is_valid': (pattern) => typeof pattern === 'string' && compile(pattern) !== null,
  'regex.find_n': (pattern, s, n) => {
    const re = compile(pattern);
    const k = count(n);
    if (!re || typeof s !== 'string' || k === undefined) return undefined;
    return matches(re, s, k).map((m) => m[0]);
  },
  'regex.find_all_string_submatch_n': (pattern, s, n) => {
    const re = compile(pattern);
    const k = count(n);
    if (!re || typeof s !== 'string' || k === undefined) return undefined;
    return matches(re, s, k).map((m) => Array.from(m, (g) => g ?? ''));
  },
  'regex.split': (pattern, s) => {
    const re = compile(pattern);
    if (!re || typeof s !== 'string') return undefined;
    // Go's Split(s, -1): pieces between matches, keeping empty ones.
    const out: string[] = [];
    let from = 0;
    for (const m of matches(re, s, -1)) {
      const at = m.index ?? 0;
      if (m[0] === '' && (at === 0 || at === s.length)) continue;
      out.push(s.slice(from, at));
      from = at + m[0].length;
    }
    out.push(s.slice(from));
    return out;
  },
  'regex.replace': (s, pattern, repl) => {
    const re = compile(pattern);
    if (!re || typeof s !== 'string' || typeof repl !== 'string') return undefined;
    const names = re.namedGroups();
    let out = '';
    let from = 0;
    for (const m of matches(re, s, -1)) {
      const at = m.index ?? 0;
      out += s.slice(from, at) + expand(repl, m, names);
      from = at + m[0].length;
    }
    return out + s.slice(from);
  },
  'glob.match': (pattern, delimiters, s) => {
    if (typeof pattern !== 'string' || typeof s !== 'string') return undefined;
    // OPA: null means no delimiters at all; an empty list means the default ["."].
    const delims = delimiters === null ? [] : delimiters;
    if (!Array.isArray(delims) || !delims.every((d) => typeof d === 'string')) return undefined;
    const list = delimiters !== null && delims.length === 0 ? ['.'] : (delims as string[]);
    const re = compile(globToRegex(pattern, list));
    return re ? re.testExact(s) : undefined;
  },
  'glob.quote_meta': (s) => (typeof s === 'string' ? s.replace(/[*?\\[\]{}]/g, '\\$&') : undefined),
};

/**
 * Translates a glob (gobwas/glob syntax, as OPA uses: `*`, `**`, `?`, `[...]`, `{a,b}`) into
 * an anchored RE2 pattern. `*` and `?` do not cross the delimiters; `**` does.
 */
export function globToRegex(glob: string, delimiters: string[]): string {
  const notDelim =
    delimiters.length === 0
      ? '.'
      : `[^${delimiters.map((d) => RE2JS.quote(d).replace(/[\]^-]/g, '\\$&')).join('')}]`;
  let out = '';
  let inAlt = 0;
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i] as string;
    if (c === '\\' && i + 1 < glob.length) {
      out += RE2JS.quote(glob[++i] as string);
    } else if (c === '*') {
      if (glob[i + 1] === '*') {
        out += '.*';
        i++;
      } else out += `${notDelim}*`;
    } else if (c === '?') out += notDelim;
    else if (c === '[') {
      const end = glob.indexOf(']', i + 1);
      if (end < 0) return '\\A\\b\\B'; // an unclosed class matches nothing
      let cls = glob.slice(i + 1, end);
      if (cls.startsWith('!')) cls = `^${cls.slice(1)}`;
      out += `[${cls}]`;
      i = end;
    } else if (c === '{') {
      out += '(?:';
      inAlt++;
    } else if (c === '}' && inAlt > 0) {
      out += ')';
      inAlt--;
    } else if (c === ',' && inAlt > 0) out += '|';
    else out += RE2JS.quote(c);
  }
  return `^${out}$`;
}
