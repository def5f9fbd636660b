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

/** A resolved masking method: `apply` returns the masked text, or null for SQL NULL. */
export interface MaskMethod {
  name: string;
  apply(value: string): string | null;
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
  switch (name) {
    case 'redact':
      return { name, apply: () => REDACTED };
    case 'null':
      return { name, apply: () => null };
    case 'pan_last4':
      return { name, apply: (v) => keepDigits(v, 0, 4) };
    case 'pan_first6_last4':
      return { name, apply: (v) => keepDigits(v, 6, 4) };
    case 'email':
      return { name, apply: maskEmail };
    case 'partial': {
      const { prefix = 0, suffix = 0 } = spec as { prefix?: number; suffix?: number };
      return { name, apply: (v) => keepChars(v, prefix, suffix) };
    }
    case 'hash': {
      const key = options.hmacKey;
      if (!key) throw new PgwardenError('ERR_MASK_METHOD', 'mask method "hash" needs a key');
      return {
        name,
        apply: (v) => 'h_' + createHmac('sha256', key).update(v).digest('hex').slice(0, 32),
      };
    }
    default:
      throw new PgwardenError('ERR_MASK_METHOD', `unknown mask method "${name}"`);
  }
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
