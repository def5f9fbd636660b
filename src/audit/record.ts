/**
 * The record format of the trail: one JSON object a line, chained by `prev` and sealed by `hash`,
 * the SHA-256 (hex) of the RFC 8785 canonical JSON of the record without `hash`.
 */
import { hash as digest } from 'node:crypto';
import canonicalizeModule from 'canonicalize';
import { members } from './canonical.js';
import { recordJson, type OwnFields } from './shapes.js';

type Canonicalize = (input: unknown) => string | undefined;

// The package is CommonJS whose typings declare an ES default export; under NodeNext the default
// import is the function at run time but typed as the module, so take whichever is callable.
const canonicalize: Canonicalize =
  (canonicalizeModule as unknown as { default?: Canonicalize }).default ??
  (canonicalizeModule as unknown as Canonicalize);

/** `prev` of the very first record of a chain: 64 zeros. */
export const GENESIS_HASH = '0'.repeat(64);

/** Field names the trail sets itself; a caller's fields may not use them. */
export const RESERVED_FIELDS: ReadonlySet<string> = new Set([
  'seq',
  'time',
  'kind',
  'instance',
  'prev',
  'hash',
  'signature',
]);

/** A record as read back from a file: the trail's own fields plus whatever the caller gave. */
export interface AuditRecord {
  seq: number;
  time: string;
  kind: string;
  instance: string;
  prev: string;
  hash: string;
  [field: string]: unknown;
}

/** SHA-256 hex of the canonical JSON of `body` (a record without its `hash`). */
export function hashBody(body: Record<string, unknown>): string {
  const text = canonicalize(body);
  if (text === undefined) throw new TypeError('audit record is not serialisable');
  return digest('sha256', text, 'hex');
}

/**
 * Seals a record: serialises the caller's `fields` and the trail's `own` fields canonically,
 * masking card numbers in all but the trail's own, and computes the hash. The line is that
 * canonical JSON with `hash` appended as the last member, so one serialisation (and one UTF-8
 * encoding) serves both hashing and writing. Most records hold nothing card-like: they are
 * serialised by shape (shapes.ts); the others take the exact, slower path of canonical.ts.
 */
export function sealRecord(
  fields: Record<string, unknown>,
  own: OwnFields,
): { hash: string; bytes: Buffer } {
  const text =
    recordJson(fields, own) ??
    members(fields, true, RESERVED_FIELDS, own as unknown as Record<string, unknown>);
  // Encoded once: the hash covers the UTF-8 bytes of the text, and the line is those bytes with
  // the closing brace replaced by the hash member.
  const size = Buffer.byteLength(text, 'utf8');
  const bytes = Buffer.allocUnsafe(size - 1 + HASH_MEMBER_BYTES);
  bytes.write(text, 0, 'utf8');
  const hash = digest('sha256', bytes.subarray(0, size), 'hex');
  bytes.write(`,"hash":"${hash}"}\n`, size - 1, 'latin1');
  return { hash, bytes };
}

/** Length of `,"hash":"<64 hex digits>"}` and the newline. */
const HASH_MEMBER_BYTES = 9 + 64 + 3;

/** Recomputes the hash of a parsed record (all members but `hash`). */
export function recomputeHash(record: Record<string, unknown>): string {
  const body = { ...record };
  delete body.hash;
  return hashBody(body);
}

/** True when `value` has the trail's own fields with the right types. */
export function isAuditRecord(value: unknown): value is AuditRecord {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const r = value as Record<string, unknown>;
  return (
    Number.isSafeInteger(r.seq) &&
    typeof r.time === 'string' &&
    typeof r.kind === 'string' &&
    typeof r.instance === 'string' &&
    typeof r.prev === 'string' &&
    typeof r.hash === 'string'
  );
}
