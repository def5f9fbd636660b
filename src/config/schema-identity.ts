/**
 * Schema of the `identity` section: which token issuers (OIDC) and SAML identity providers are
 * trusted, how their claims become the subject and groups that policy sees, lockout and idle
 * limits.
 */
import { z } from 'zod';
import { bytes, duration, envName, filePath } from './units.js';

/** Signature algorithms a JWT issuer may be configured to use; `none` is never among them. */
export const JwtAlgorithms = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
  'Ed25519',
  'HS256',
] as const;

const algorithm = z.string().superRefine((alg, ctx) => {
  if (alg.toLowerCase() === 'none') {
    ctx.addIssue({ code: 'custom', message: 'the "none" algorithm is never accepted' });
  } else if (!(JwtAlgorithms as readonly string[]).includes(alg)) {
    ctx.addIssue({ code: 'custom', message: `expected one of ${JwtAlgorithms.join(', ')}` });
  }
}) as unknown as z.ZodType<(typeof JwtAlgorithms)[number], string>;

/** `{claim.path}` placeholders must be closed, or the template silently produces garbage. */
const template = z
  .string()
  .min(1)
  .refine((t) => /^([^{}]|\{[^{}]+\})*$/.test(t), 'unbalanced { } in template');

/** How token claims become group names: a claim path (`realm_access.roles`) and templates. */
const claimGroups = z.strictObject({
  claim: z.string().min(1).default('groups'),
  templates: z.array(template).default([]),
});

/** How SAML attributes become group names. */
const attributeGroups = z.strictObject({
  attribute: z.string().min(1).default('groups'),
  templates: z.array(template).default([]),
});

/** One trusted OIDC token issuer. */
function issuerSchema(baseDir: string) {
  return z
    .strictObject({
      issuer: z.string().min(1),
      audiences: z.array(z.string().min(1)).min(1),
      discovery: z.union([z.boolean(), z.url()]).optional(),
      jwks_uri: z.url().optional(),
      jwks_file: filePath(baseDir).optional(),
      algorithms: z.array(algorithm).min(1).default(['RS256', 'PS256', 'ES256', 'EdDSA']),
      hs256_secret_env: envName().optional(),
      hs256_secret_file: filePath(baseDir).optional(),
      clock_skew: duration().prefault('60s'),
      required_claims: z
        .record(
          z.string().min(1),
          z.union([z.string(), z.number(), z.boolean(), z.array(z.string())]),
        )
        .default({}),
      subject: template.default('{sub}'),
      groups: claimGroups.prefault({}),
      jwks_timeout: duration().prefault('5s'),
      jwks_cooldown: duration().prefault('30s'),
      jwks_max_age: duration().prefault('10m'),
    })
    .superRefine((issuer, ctx) => {
      const sources = [issuer.jwks_uri, issuer.jwks_file, issuer.discovery || undefined];
      const given = sources.filter((source) => source !== undefined).length;
      if (given > 1) {
        ctx.addIssue({
          code: 'custom',
          path: ['jwks_uri'],
          message: 'give only one of discovery, jwks_uri and jwks_file',
        });
      }
      if (given === 0 && issuer.discovery === false) {
        ctx.addIssue({
          code: 'custom',
          path: ['discovery'],
          message: 'with discovery off, give jwks_uri or jwks_file',
        });
      }
      const hsSecret = issuer.hs256_secret_env ?? issuer.hs256_secret_file;
      const hsWanted = issuer.algorithms.includes('HS256');
      if (hsWanted && hsSecret === undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['algorithms'],
          message: 'HS256 needs hs256_secret_env or hs256_secret_file for this issuer',
        });
      }
      if (!hsWanted && hsSecret !== undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['algorithms'],
          message: 'an HS256 secret is configured but HS256 is not in algorithms',
        });
      }
      if (issuer.hs256_secret_env !== undefined && issuer.hs256_secret_file !== undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['hs256_secret_file'],
          message: 'give hs256_secret_env or hs256_secret_file, not both',
        });
      }
    })
    .transform((issuer) => ({
      ...issuer,
      // With no explicit key source, keys come from the issuer's OIDC discovery document.
      discovery:
        issuer.discovery ?? (issuer.jwks_uri === undefined && issuer.jwks_file === undefined),
    }));
}

/** One trusted SAML 2.0 identity provider. */
function samlSchema(baseDir: string) {
  return z.strictObject({
    name: z.string().min(1).optional(),
    issuer: z.string().min(1),
    audience: z.string().min(1),
    recipient: z.string().min(1).optional(),
    cert_file: filePath(baseDir),
    clock_skew: duration().prefault('60s'),
    required_attributes: z
      .record(
        z.string().min(1),
        z.union([z.string(), z.number(), z.boolean(), z.array(z.string())]),
      )
      .default({}),
    subject: template.default('{nameID}'),
    groups: attributeGroups.prefault({}),
  });
}

/** The `identity` section. */
export function identitySchema(baseDir: string) {
  return z
    .strictObject({
      issuers: z.array(issuerSchema(baseDir)).default([]),
      saml: z.array(samlSchema(baseDir)).default([]),
      lockout: z
        .strictObject({
          max_attempts: z.number().int().min(1).max(10).default(10),
          duration: duration().prefault('30m'),
          window: duration().prefault('15m'),
        })
        .prefault({}),
      idle_timeout: duration().prefault('15m'),
      session_grace: duration().prefault('0s'),
      max_token_bytes: bytes().default(16 * 1024),
    })
    .superRefine((identity, ctx) => {
      const seen = new Set<string>();
      identity.issuers.forEach((issuer, i) => {
        if (seen.has(issuer.issuer)) {
          ctx.addIssue({
            code: 'custom',
            path: ['issuers', i, 'issuer'],
            message: `issuer "${issuer.issuer}" is listed twice`,
          });
        }
        seen.add(issuer.issuer);
      });
    });
}
