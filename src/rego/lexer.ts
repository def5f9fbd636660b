/**
 * The Rego lexer: turns source text into tokens with 1-based line/column positions.
 * Newlines are not tokens; instead each token records whether a newline preceded it, because
 * a newline separates the expressions of a body (like `;`).
 */

import { diagnostic, type Diagnostic } from './diagnostics.js';

/** Token kinds. Keywords are `ident` tokens; the parser decides which words are keywords. */
export type TokenKind = 'ident' | 'number' | 'string' | 'rawstring' | 'punct' | 'eof';

/** One token. For strings `value` is the decoded text; for others the text as written. */
export interface Token {
  kind: TokenKind;
  value: string;
  line: number;
  col: number;
  /** Byte offset of the token's first character. */
  offset: number;
  /** A newline (or the start of the file) comes between the previous token and this one. */
  nl: boolean;
  /** Whitespace (including newlines) comes between the previous token and this one. */
  ws: boolean;
}

const PUNCTS = [':=', '==', '!=', '<=', '>=', '{', '}', '[', ']', '(', ')', '.', ',', ';', ':'];
const SINGLE = new Set(['=', '<', '>', '+', '-', '*', '/', '%', '&', '|']);

function isIdentStart(c: string): boolean {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c === '_';
}

function isDigit(c: string | undefined): boolean {
  return c !== undefined && c >= '0' && c <= '9';
}

/** Split `text` into tokens; problems become diagnostics and the lexer keeps going. */
export function tokenize(
  text: string,
  file: string,
): { tokens: Token[]; diagnostics: Diagnostic[] } {
  const tokens: Token[] = [];
  const diagnostics: Diagnostic[] = [];
  let i = 0;
  let line = 1;
  let lineStart = 0;
  let nl = true;
  let ws = true;

  const fail = (l: number, c: number, msg: string): void => {
    diagnostics.push(diagnostic({ file, line: l, col: c }, 'rego_parse_error', msg));
  };

  while (i < text.length) {
    const c = text[i]!;
    if (c === '\n') {
      i++;
      line++;
      lineStart = i;
      nl = true;
      ws = true;
      continue;
    }
    if (c === ' ' || c === '\t' || c === '\r') {
      i++;
      ws = true;
      continue;
    }
    if (c === '#') {
      while (i < text.length && text[i] !== '\n') i++;
      continue;
    }
    const col = i - lineStart + 1;
    const start = i;
    const push = (kind: TokenKind, value: string): void => {
      tokens.push({ kind, value, line, col, offset: start, nl, ws });
      nl = false;
      ws = false;
    };

    if (isIdentStart(c)) {
      while (i < text.length && (isIdentStart(text[i]!) || isDigit(text[i]))) i++;
      push('ident', text.slice(start, i));
      continue;
    }
    if (isDigit(c)) {
      i = scanNumber(text, i);
      push('number', text.slice(start, i));
      continue;
    }
    if (c === '"') {
      const r = scanString(text, i);
      if (r.error !== undefined) fail(line, col, r.error);
      i = r.end;
      push('string', r.value);
      continue;
    }
    if (c === '`') {
      const end = text.indexOf('`', i + 1);
      if (end < 0) {
        fail(line, col, 'non-terminated raw string');
        i = text.length;
        push('rawstring', '');
        continue;
      }
      const value = text.slice(i + 1, end);
      const startLine = line;
      for (let k = i + 1; k < end; k++) {
        if (text[k] === '\n') {
          line++;
          lineStart = k + 1;
        }
      }
      i = end + 1;
      tokens.push({ kind: 'rawstring', value, line: startLine, col, offset: start, nl, ws });
      nl = false;
      ws = false;
      continue;
    }
    const two = text.slice(i, i + 2);
    const p = PUNCTS.find((x) => x === two || x === c);
    if (p !== undefined && (p.length === 2 ? p === two : true)) {
      i += p.length;
      push('punct', p);
      continue;
    }
    if (SINGLE.has(c)) {
      i++;
      push('punct', c);
      continue;
    }
    fail(line, col, `illegal token ${JSON.stringify(c)}`);
    i++;
  }
  tokens.push({ kind: 'eof', value: '', line, col: i - lineStart + 1, offset: i, nl: true, ws });
  return { tokens, diagnostics };
}

/** Scan a JSON number starting at `i` (digits first); returns the end offset. */
function scanNumber(text: string, i: number): number {
  while (isDigit(text[i])) i++;
  if (text[i] === '.' && isDigit(text[i + 1])) {
    i++;
    while (isDigit(text[i])) i++;
  }
  if (text[i] === 'e' || text[i] === 'E') {
    let j = i + 1;
    if (text[j] === '+' || text[j] === '-') j++;
    if (isDigit(text[j])) {
      i = j;
      while (isDigit(text[i])) i++;
    }
  }
  return i;
}

const ESCAPES: Record<string, string> = {
  '"': '"',
  '\\': '\\',
  '/': '/',
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
};

/** Scan a double-quoted string at `i`, decoding JSON escapes. */
function scanString(text: string, i: number): { value: string; end: number; error?: string } {
  let out = '';
  let j = i + 1;
  while (j < text.length) {
    const c = text[j]!;
    if (c === '"') return { value: out, end: j + 1 };
    if (c === '\n') break;
    if (c !== '\\') {
      out += c;
      j++;
      continue;
    }
    const e = text[j + 1];
    if (e === 'u') {
      const hex = text.slice(j + 2, j + 6);
      if (!/^[0-9a-fA-F]{4}$/.test(hex)) return { value: out, end: j + 2, error: 'invalid escape' };
      out += String.fromCharCode(parseInt(hex, 16));
      j += 6;
      continue;
    }
    const mapped = e === undefined ? undefined : ESCAPES[e];
    if (mapped === undefined) return { value: out, end: j + 2, error: 'illegal escape sequence' };
    out += mapped;
    j += 2;
  }
  return { value: out, end: j, error: 'non-terminated string' };
}
