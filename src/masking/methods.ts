/**
 * The registry of masking methods a decision may name. Each method turns one text value into
 * its masked form, or into SQL NULL (`null` result). Methods that only make sense for a value
 * taken verbatim from its column (`pan_last4` on a concatenation would reveal nothing useful and
 * could leak) apply only where lineage is exact; derived values are redacted instead.
 */
import { createHmac } from 'node:crypto';
import { PgwardenError } from '../errors.js';
import type { MaskSpec } from '../policy/types.js';

/** The fixed token that replaces a redacted text value. */
export const REDACTED = '[redacted]';

/**
 * A resolved masking method: `apply` returns the masked text, or null for SQL NULL.
 * `applyBytes` does the same on a value's UTF-8 bytes, for the row masker's hot path, and
 * `maskInPlace`, present on methods that keep the length, rewrites bytes [start, end) of a
 * buffer the caller owns, which saves the row masker an allocation per value.
 */
export interface MaskMethod {
  name: string;
  apply(value: string): string | null;
  applyBytes(value: Buffer): Buffer | null;
  maskInPlace?(bytes: Buffer, start: number, end: number): void;
}

/** Method names a decision may use. */
export const MASK_METHODS = [
  'redact',
  'pan_last4',
  'pan_first6_last4',
  'hash',
  'null',
  'email',
  'partial',
] as const;

/** Options shared by all methods of one gateway. */
export interface MaskOptions {
  /** Key of the `hash` method; without it `hash` is refused as malformed. */
  hmacKey?: Buffer;
}

/** True when `spec` names a known method with valid parameters. */
export function checkMaskSpec(spec: unknown): string | null {
  const name = typeof spec === 'string' ? spec : methodName(spec);
  if (name === undefined) return 'mask must be a method name or an object with "method"';
  if (!(MASK_METHODS as readonly string[]).includes(name)) return `unknown mask method "${name}"`;
  if (name === 'partial' && typeof spec === 'object') {
    const { prefix = 0, suffix = 0 } = spec as { prefix?: unknown; suffix?: unknown };
    if (!isCount(prefix) || !isCount(suffix)) {
      return 'partial mask needs non-negative integer prefix and suffix';
    }
  }
  return null;
}

/** Resolves a decision's mask spec into a method; throws ERR_MASK_METHOD when malformed. */
export function resolveMethod(spec: MaskSpec, options: MaskOptions = {}): MaskMethod {
  const problem = checkMaskSpec(spec);
  if (problem) throw new PgwardenError('ERR_MASK_METHOD', problem);
  const name = typeof spec === 'string' ? spec : spec.method;
  return withBytes(name, textMethod(name, spec, options));
}

/** The method as a function of text. */
function textMethod(
  name: string,
  spec: MaskSpec,
  options: MaskOptions,
): (value: string) => string | null {
  switch (name) {
    case 'redact':
      return () => REDACTED;
    case 'null':
      return () => null;
    case 'pan_last4':
      return (v) => keepDigits(v, 0, 4);
    case 'pan_first6_last4':
      return (v) => keepDigits(v, 6, 4);
    case 'email':
      return maskEmail;
    case 'partial': {
      const { prefix = 0, suffix = 0 } = spec as { prefix?: number; suffix?: number };
      return (v) => keepChars(v, prefix, suffix);
    }
    case 'hash': {
      const key = options.hmacKey;
      if (!key) throw new PgwardenError('ERR_MASK_METHOD', 'mask method "hash" needs a key');
      return (v) => 'h_' + createHmac('sha256', key).update(v).digest('hex').slice(0, 32);
    }
    default:
      throw new PgwardenError('ERR_MASK_METHOD', `unknown mask method "${name}"`);
  }
}

/**
 * Adds the byte form. Digits and `@` are single bytes in UTF-8 that never occur inside a
 * multi-byte character, so the digit and e-mail methods work on the bytes without decoding.
 */
function withBytes(name: string, apply: (value: string) => string | null): MaskMethod {
  const redacted = Buffer.from(REDACTED);
  switch (name) {
    case 'redact':
      return { name, apply, applyBytes: () => redacted };
    case 'null':
      return { name, apply, applyBytes: () => null };
    case 'pan_last4':
    case 'pan_first6_last4': {
      const head = name === 'pan_last4' ? 0 : 6;
      return {
        name,
        apply,
        applyBytes: (v) => {
          const out = Buffer.from(v);
          keepDigitBytes(out, 0, out.length, head, 4);
          return out;
        },
        maskInPlace: (bytes, start, end) => keepDigitBytes(bytes, start, end, head, 4),
      };
    }
    case 'email':
      return { name, apply, applyBytes: maskEmailBytes };
    default:
      return {
        name,
        apply,
        applyBytes: (v) => {
          const out = apply(v.toString('utf8'));
          return out === null ? null : Buffer.from(out, 'utf8');
        },
      };
  }
}

/** {@link keepDigits} on the UTF-8 bytes [start, end) of `bytes`, in place. */
function keepDigitBytes(
  bytes: Buffer,
  start: number,
  end: number,
  head: number,
  tail: number,
): void {
  let digits = 0;
  for (let i = start; i < end; i++) if (isDigit(bytes[i]!)) digits++;
  const keepEnds = digits > head + tail;
  let seen = 0;
  for (let i = start; i < end; i++) {
    if (!isDigit(bytes[i]!)) continue;
    if (!keepEnds || (seen >= head && seen < digits - tail)) bytes[i] = 0x2a;
    seen++;
  }
}

/** {@link maskEmail} on UTF-8 bytes. */
function maskEmailBytes(value: Buffer): Buffer {
  const at = value.lastIndexOf(0x40);
  if (at < 0) return Buffer.from(REDACTED);
  const out = Buffer.allocUnsafe(3 + value.length - at);
  out.write('***', 0, 'latin1');
  value.copy(out, 3, at);
  return out;
}

/** Masks every digit except the first `head` and the last `tail`; other characters stay. */
function keepDigits(value: string, head: number, tail: number): string {
  let digits = 0;
  for (let i = 0; i < value.length; i++) if (isDigit(value.charCodeAt(i))) digits++;
  // A value too short to keep both ends without revealing it whole is fully masked.
  if (digits <= head + tail) return value.replace(/[0-9]/g, '*');
  let seen = 0;
  let out = '';
  for (let i = 0; i < value.length; i++) {
    const c = value[i]!;
    if (!isDigit(value.charCodeAt(i))) {
      out += c;
      continue;
    }
    out += seen < head || seen >= digits - tail ? c : '*';
    seen++;
  }
  return out;
}

function keepChars(value: string, prefix: number, suffix: number): string {
  const chars = [...value];
  if (chars.length <= prefix + suffix) return '*'.repeat(chars.length);
  const middle = chars.length - prefix - suffix;
  return (
    chars.slice(0, prefix).join('') +
    '*'.repeat(middle) +
    chars.slice(chars.length - suffix).join('')
  );
}

function maskEmail(value: string): string {
  const at = value.lastIndexOf('@');
  return at < 0 ? REDACTED : '***' + value.slice(at);
}

function methodName(spec: unknown): string | undefined {
  if (typeof spec !== 'object' || spec === null) return undefined;
  const method = (spec as { method?: unknown }).method;
  return typeof method === 'string' ? method : undefined;
}

function isCount(value: unknown): boolean {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0;
}

function isDigit(code: number): boolean {
  return code >= 48 && code <= 57;
}
