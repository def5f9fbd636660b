/**
 * Units the configuration file writes as text: durations (`30s`, `10m`, `1h30m`), sizes (`64MiB`,
 * `512KB`, or a plain number of bytes) and file paths (resolved against the configuration file's
 * folder, so a file moved together with its keys keeps working).
 */
import path from 'node:path';
import { z } from 'zod';

const DURATION_UNITS: Record<string, number> = {
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

const SIZE_UNITS: Record<string, number> = {
  b: 1,
  kb: 1_000,
  mb: 1_000_000,
  gb: 1_000_000_000,
  kib: 1_024,
  mib: 1_048_576,
  gib: 1_073_741_824,
};

/**
 * Parses a duration such as `250ms`, `30s`, `10m`, `8h`, `1d` or `1h30m` into milliseconds.
 * Returns `undefined` for anything else; a bare number is refused on purpose, since a reader
 * cannot tell seconds from milliseconds.
 */
export function parseDuration(text: string): number | undefined {
  const trimmed = text.trim();
  if (!/^(\d+(\.\d+)?(ms|s|m|h|d))+$/.test(trimmed)) return undefined;
  let total = 0;
  for (const part of trimmed.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h|d)/g)) {
    total += Number(part[1]) * (DURATION_UNITS[part[2] ?? ''] ?? Number.NaN);
  }
  return Number.isFinite(total) ? Math.round(total) : undefined;
}

/** Parses a size such as `64MiB`, `512KB` or `1048576` into bytes; `undefined` when invalid. */
export function parseBytes(text: string): number | undefined {
  const match = /^(\d+(?:\.\d+)?)\s*([a-zA-Z]*)$/.exec(text.trim());
  if (!match) return undefined;
  const unit = SIZE_UNITS[(match[2] || 'b').toLowerCase()];
  if (unit === undefined) return undefined;
  return Math.floor(Number(match[1]) * unit);
}

/** A duration option: text like `10m` in YAML, milliseconds once parsed. */
export function duration(): z.ZodType<number, string> {
  return z.string('expected a duration such as 30s or 10m').transform((text, ctx) => {
    const ms = parseDuration(text);
    if (ms === undefined) {
      ctx.issues.push({
        code: 'custom',
        message: `expected a duration such as 30s or 10m, got "${text}"`,
        input: text,
      });
      return z.NEVER;
    }
    return ms;
  });
}

/** A size option: a number of bytes or text like `64MiB`; bytes once parsed. */
export function bytes(): z.ZodType<number, string | number> {
  return z
    .union([z.number(), z.string()], 'expected a size such as 65536 or 64MiB')
    .transform((value, ctx) => {
      const n = typeof value === 'number' ? value : parseBytes(value);
      if (n === undefined || !Number.isInteger(n) || n <= 0) {
        ctx.issues.push({
          code: 'custom',
          message: `expected a size such as 65536 or 64MiB, got "${String(value)}"`,
          input: value,
        });
        return z.NEVER;
      }
      return n;
    });
}

/** A TCP port number (0 lets the system choose, which tests use). */
export function port(): z.ZodNumber {
  return z.number().int().min(0).max(65535);
}

/** A file or folder path, resolved against `baseDir` (the configuration file's folder). */
export function filePath(baseDir: string): z.ZodType<string, string> {
  return z
    .string()
    .min(1)
    .transform((p) => path.resolve(baseDir, p));
}

/** The name of an environment variable holding a secret. */
export function envName(): z.ZodString {
  return z
    .string()
    .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'expected the name of an environment variable');
}
