/**
 * The decision cache's key for a query string: the text with the literal operands of
 * comparisons replaced by `?`, so `WHERE aid = 17` and `WHERE aid = 42` share one key.
 *
 * Only literals right after a comparison operator are replaced, because elsewhere a literal can
 * change what the statement does and thus its facts: `ORDER BY 2` names a column, `LIMIT 10` is
 * the `limit` fact, `nextval('s')` names a sequence, a COPY file name is a fact. The scanner is
 * deliberately small: anything it is unsure about (dollar quotes, escape strings, an unclosed
 * quote or comment) makes the text uncacheable rather than risking two statements with
 * different facts sharing a key.
 */

/** Operators after which a literal is a compared value, never a name or a position. */
const COMPARISONS = new Set(['=', '<>', '!=', '<', '>', '<=', '>=']);

/** Longest text the cache considers; longer statements are analysed every time. */
export const MAX_KEY_TEXT = 4096;

const enum Ch {
  Quote = 0x27,
  DoubleQuote = 0x22,
  Dollar = 0x24,
  Dash = 0x2d,
  Slash = 0x2f,
  Star = 0x2a,
  Dot = 0x2e,
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

function isWordChar(c: number): boolean {
  return (
    isDigit(c) ||
    (c >= 0x41 && c <= 0x5a) ||
    (c >= 0x61 && c <= 0x7a) ||
    c === 0x5f ||
    c === Ch.Dollar ||
    c >= 0x80
  );
}

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d || c === 0x0c;
}

function isOperatorChar(c: number): boolean {
  // PostgreSQL's operator characters: + - * / < > = ~ ! @ # % ^ & | ` ?
  return '+-*/<>=~!@#%^&|`?'.includes(String.fromCharCode(c));
}

/**
 * The cache key of `text`, or null when the text is not cacheable. Two texts with the same key
 * differ at most in the values compared against, which no statement fact depends on.
 */
export function statementKey(text: string): string | null {
  if (text.length > MAX_KEY_TEXT) return null;
  let out = '';
  let copied = 0;
  // The last significant token: an operator's text, or '' for anything else.
  let lastOperator = '';
  let i = 0;
  const n = text.length;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (isSpace(c)) {
      i++;
      continue;
    }
    if (c === Ch.Dash && text.charCodeAt(i + 1) === Ch.Dash) {
      const end = text.indexOf('\n', i);
      i = end < 0 ? n : end + 1;
      lastOperator = '';
      continue;
    }
    if (c === Ch.Slash && text.charCodeAt(i + 1) === Ch.Star) {
      // Block comments nest in PostgreSQL; a nested one is rare enough to give up on.
      const end = text.indexOf('*/', i + 2);
      if (end < 0 || text.slice(i + 2, end).includes('/*')) return null;
      i = end + 2;
      lastOperator = '';
      continue;
    }
    if (c === Ch.Quote) {
      const end = closingQuote(text, i);
      // A backslash may escape a quote (E'...', or standard_conforming_strings off): the scan
      // could no longer tell where the string ends.
      if (end < 0 || text.slice(i, end).includes('\\')) return null;
      // B'...', X'...' and U&'...' are kept, never replaced.
      const prefixed = i > 0 && isWordChar(text.charCodeAt(i - 1));
      if (!prefixed && COMPARISONS.has(lastOperator)) {
        out += text.slice(copied, i) + '?';
        copied = end;
      }
      i = end;
      lastOperator = '';
      continue;
    }
    if (c === Ch.DoubleQuote) {
      const end = text.indexOf('"', i + 1);
      if (end < 0) return null;
      i = end + 1;
      lastOperator = '';
      continue;
    }
    if (c === Ch.Dollar && !isDigit(text.charCodeAt(i + 1))) return null;
    if (isDigit(c) || (c === Ch.Dot && isDigit(text.charCodeAt(i + 1)))) {
      let end = i + 1;
      while (end < n && (isWordChar(text.charCodeAt(end)) || text.charCodeAt(end) === Ch.Dot)) {
        // An exponent sign belongs to the number: 1e-5.
        end++;
        const e = text.charCodeAt(end - 1) | 0x20;
        const s = text.charCodeAt(end);
        if (e === 0x65 && (s === 0x2b || s === Ch.Dash) && isDigit(text.charCodeAt(end + 1))) end++;
      }
      if (COMPARISONS.has(lastOperator)) {
        out += text.slice(copied, i) + '?';
        copied = end;
      }
      i = end;
      lastOperator = '';
      continue;
    }
    if (isWordChar(c)) {
      while (i < n && isWordChar(text.charCodeAt(i))) i++;
      lastOperator = '';
      continue;
    }
    if (isOperatorChar(c)) {
      let end = i;
      while (end < n && isOperatorChar(text.charCodeAt(end))) {
        // A comment start ends the operator, as in PostgreSQL's lexer.
        const two = text.slice(end, end + 2);
        if (two === '--' || two === '/*') break;
        end++;
      }
      lastOperator = text.slice(i, end);
      i = end;
      continue;
    }
    // Punctuation: ( ) , ; [ ] : and the like.
    lastOperator = '';
    i++;
  }
  return out + text.slice(copied);
}

/** Index after the quote closing the standard string that opens at `start`, or -1. */
function closingQuote(text: string, start: number): number {
  let i = start + 1;
  for (;;) {
    const end = text.indexOf("'", i);
    if (end < 0) return -1;
    // '' is an escaped quote inside the string.
    if (text.charCodeAt(end + 1) === Ch.Quote) {
      i = end + 2;
      continue;
    }
    return end + 1;
  }
}
