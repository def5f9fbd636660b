/**
 * Schemas of the `policy` section (where bundles come from, how they are verified, the decision
 * entrypoint, a shadow candidate) and the `masking` section.
 */
import { z } from 'zod';
import { duration, envName, filePath } from './units.js';

/** Where a bundle comes from: exactly one of a file, a folder of Rego, or a bundle server. */
function bundleSource(baseDir: string) {
  return z
    .strictObject({
      file: filePath(baseDir).optional(),
      dir: filePath(baseDir).optional(),
      url: z.url({ protocol: /^https?$/, error: 'expected an http(s) URL' }).optional(),
      poll: duration().prefault('30s'),
      poll_max: duration().prefault('5m'),
      bearer_token_env: envName().optional(),
      bearer_token_file: filePath(baseDir).optional(),
      v0_compatible: z.boolean().default(false),
    })
    .superRefine((source, ctx) => {
      const given = [source.file, source.dir, source.url].filter((s) => s !== undefined);
      if (given.length !== 1) {
        ctx.addIssue({
          code: 'custom',
          message: 'give exactly one of file, dir and url',
        });
      }
      if (source.bearer_token_env !== undefined && source.bearer_token_file !== undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['bearer_token_file'],
          message: 'give bearer_token_env or bearer_token_file, not both',
        });
      }
      if (source.poll_max < source.poll) {
        ctx.addIssue({
          code: 'custom',
          path: ['poll_max'],
          message: 'must be at least poll',
        });
      }
    });
}

/** The `policy` section. */
export function policySchema(baseDir: string) {
  return z
    .strictObject({
      bundle: bundleSource(baseDir).optional(),
      entrypoint: z
        .string()
        .regex(/^[A-Za-z_][\w-]*(\/[A-Za-z_][\w-]*)*$/, 'expected a path like pgwarden/decision')
        .default('pgwarden/decision'),
      signing: z
        .strictObject({
          required: z.boolean().default(false),
          key_file: filePath(baseDir).optional(),
          key_id: z.string().min(1).optional(),
          scope: z.string().min(1).optional(),
          alg: z.enum(['RS256', 'ES256', 'HS256', 'PS256', 'EdDSA']).default('RS256'),
        })
        .prefault({}),
      shadow: bundleSource(baseDir).optional(),
      decision_cache_entries: z.number().int().min(0).default(10_000),
    })
    .superRefine((policy, ctx) => {
      if (policy.signing.required && policy.signing.key_file === undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['signing', 'key_file'],
          message: 'required when signing.required is true',
        });
      }
    });
}

/** The `masking` section. */
export function maskingSchema(baseDir: string) {
  return z
    .strictObject({
      hmac_key_env: envName().optional(),
      hmac_key_file: filePath(baseDir).optional(),
      backstop: z.boolean().default(true),
      binary: z.enum(['redact', 'refuse']).default('redact'),
      unknown_lineage: z.enum(['redact', 'refuse']).default('redact'),
    })
    .superRefine((masking, ctx) => {
      if (masking.hmac_key_env !== undefined && masking.hmac_key_file !== undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['hmac_key_file'],
          message: 'give hmac_key_env or hmac_key_file, not both',
        });
      }
    });
}
