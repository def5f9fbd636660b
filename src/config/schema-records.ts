/**
 * Schemas of the sections that keep records: `audit` (the hash-chained trail) and `approvals`
 * (held statements and grants). Their default folders live under the top-level `state_dir`, so
 * they are filled in by the top-level schema.
 */
import { z } from 'zod';
import { bytes, duration, envName, filePath } from './units.js';

/** A PostgreSQL connection string held as a secret (it carries a password). */
function dsnFields(baseDir: string) {
  return {
    dsn_env: envName().optional(),
    dsn_file: filePath(baseDir).optional(),
  };
}

/** Checks a `store: postgres` or `sink: postgres` section names exactly one DSN source. */
function checkDsn(
  wantsPostgres: boolean,
  fields: { dsn_env?: string | undefined; dsn_file?: string | undefined },
  ctx: z.RefinementCtx,
): void {
  const given = [fields.dsn_env, fields.dsn_file].filter((f) => f !== undefined).length;
  if (wantsPostgres && given !== 1) {
    ctx.addIssue({
      code: 'custom',
      path: ['dsn_env'],
      message: 'the postgres store needs exactly one of dsn_env and dsn_file',
    });
  }
}

const forwardTarget = (baseDir: string) =>
  z.strictObject({
    url: z.url({
      protocol: /^(https?|syslog|syslog\+tls)$/,
      error: 'expected an https://, http://, syslog:// or syslog+tls:// URL',
    }),
    bearer_token_env: envName().optional(),
    ca_file: filePath(baseDir).optional(),
  });

/** The `audit` section; `dir` is optional here and defaults to `<state_dir>/audit`. */
export function auditSchema(baseDir: string) {
  return z
    .strictObject({
      dir: filePath(baseDir).optional(),
      sink: z.enum(['file', 'postgres']).default('file'),
      ...dsnFields(baseDir),
      durability: z.enum(['strict', 'batched']).default('strict'),
      batch_interval: duration().prefault('5ms'),
      rotate_bytes: bytes().default(64 * 1024 * 1024),
      rotate_seconds: z.number().int().min(1).default(86_400),
      checkpoint_every: z.number().int().min(1).default(1_000),
      checkpoint_seconds: z.number().int().min(1).default(60),
      signing_key_file: filePath(baseDir).optional(),
      checkpoint_sink: filePath(baseDir).optional(),
      record_rows: z
        .strictObject({
          databases: z.array(z.string().min(1)).default([]),
          identities: z.array(z.string().min(1)).default([]),
          max_bytes: bytes().default(64 * 1024),
        })
        .prefault({}),
      retention_days: z.number().int().min(1).default(365),
      forward: z.array(forwardTarget(baseDir)).default([]),
    })
    .superRefine((audit, ctx) => checkDsn(audit.sink === 'postgres', audit, ctx));
}

/** The `approvals` section; `path` defaults to `<state_dir>/approvals.json`. */
export function approvalsSchema(baseDir: string) {
  return z
    .strictObject({
      store: z.enum(['file', 'postgres']).default('file'),
      path: filePath(baseDir).optional(),
      ...dsnFields(baseDir),
      timeout: duration().prefault('10m'),
      webhook_url: z.url({ protocol: /^https?$/, error: 'expected an http(s) URL' }).optional(),
      webhook_retries: z.number().int().min(0).default(3),
      public_url: z.url({ protocol: /^https?$/, error: 'expected an http(s) URL' }).optional(),
    })
    .superRefine((approvals, ctx) => checkDsn(approvals.store === 'postgres', approvals, ctx));
}
