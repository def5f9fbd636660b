/**
 * PostgreSQL's own parser (libpg-query 18, compiled to WebAssembly), wrapped so the rest of the
 * folder sees plain nodes, per-statement source text and PgwardenErrors.
 */
import { fingerprintSync, loadModule, parseSync, type Node } from 'libpg-query';
import { PgwardenError } from '../errors.js';
import { maskCardNumbers } from '../masking/detect.js';

// The WebAssembly module must be instantiated before the synchronous entry points work. Loading
// it once when this module is first imported keeps `analyzeStatements` synchronous for callers.
await loadModule();

/** One statement of a query string: its parse tree and its own slice of the source text. */
export interface ParsedStatement {
  /** The statement node, e.g. `{ SelectStmt: {...} }`. */
  node: Node;
  /** The statement's source text, trimmed, without the trailing semicolon. */
  text: string;
}

/** Slices byte ranges: libpg_query reports UTF-8 byte offsets, not string indexes. */
function slicer(text: string): (start: number, end: number | undefined) => string {
  if (/^[\x00-\x7f]*$/.test(text)) return (start, end) => text.slice(start, end);
  const bytes = Buffer.from(text, 'utf8');
  return (start, end) => bytes.subarray(start, end).toString('utf8');
}

/**
 * Parses a query string into its statements. Throws `ERR_SQL_PARSE` with PostgreSQL's message
 * (card numbers in it masked) when the text is not valid SQL. Empty text has no statements.
 */
export function parseStatements(text: string): ParsedStatement[] {
  if (text.trim() === '') return [];
  let tree;
  try {
    tree = parseSync(text);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    throw new PgwardenError('ERR_SQL_PARSE', maskCardNumbers(message), { cause: err });
  }
  const slice = slicer(text);
  const out: ParsedStatement[] = [];
  for (const raw of tree.stmts ?? []) {
    if (raw.stmt === undefined) continue;
    const start = raw.stmt_location ?? 0;
    // A zero or missing length means "to the end of the string".
    const end = raw.stmt_len ? start + raw.stmt_len : undefined;
    out.push({ node: raw.stmt, text: slice(start, end).trim() });
  }
  return out;
}

/**
 * Fingerprint of a statement's normalized form (constants removed), as libpg_query computes it.
 * Falls back to the original text when masking made the text unparseable (a masked numeric
 * literal): constants do not enter the fingerprint, so both texts fingerprint the same.
 */
export function statementFingerprint(masked: string, original: string): string {
  try {
    return fingerprintSync(masked);
  } catch {
    return fingerprintSync(original);
  }
}
