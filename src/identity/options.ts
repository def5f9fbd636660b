/**
 * Configuration of the identity providers pgwarden trusts, with defaults and validation done up
 * front: a mistake in an issuer's settings is a startup error, never a surprise at login.
 */
import { JwtAlgorithms } from '../config/index.js';
import { PgwardenError } from '../errors.js';

/** Asymmetric algorithms accepted when an issuer does not list its own. */
export const DEFAULT_ALGORITHMS = ['RS256', 'PS256', 'ES256', 'EdDSA'] as const;

/** Algorithms pgwarden knows how to verify; anything else in a configuration is refused. */
const KNOWN_ALGORITHMS: ReadonlySet<string> = new Set(JwtAlgorithms);

/** A required claim value, or the list of accepted values; compared as text. */
export type RequiredValue = string | number | boolean | string[];

/** One trusted OIDC issuer (GitHub Actions, GitLab, Kubernetes, Keycloak, Entra ID, ...). */
export interface IssuerOptions {
  /** Exact `iss` value tokens must carry. */
  issuer: string;
  /** Accepted `aud` values; a token must name at least one. */
  audiences: string[];
  /** Where the signing keys are. Exactly one of `jwksUri`, `discovery` or `jwksFile`. */
  jwksUri?: string;
  /**
   * Find `jwks_uri` through `{issuer}/.well-known/openid-configuration` (`true`), or through the
   * discovery document at this URL.
   */
  discovery?: boolean | string;
  /** A local JWKS file, re-read when a token names a key it does not hold. */
  jwksFile?: string;
  /** Accepted `alg` values. Default RS256, PS256, ES256, EdDSA (plus HS256 with a secret). */
  algorithms?: string[];
  /** Shared secret for HS256; HS256 is refused for an issuer without one. */
  hs256Secret?: () => string;
  /** Allowed clock difference for `exp`, `nbf` and `iat`, in seconds. Default 60. */
  clockSkewSeconds?: number;
  /** Claims that must be present with this value (or one of these values). Paths may use dots. */
  requiredClaims?: Record<string, RequiredValue>;
  /** The subject the policy sees, e.g. `repo:{repository}:ref:{ref}`. Default `{sub}`. */
  subjectTemplate?: string;
  /** Claim path holding group names, e.g. `groups` or `realm_access.roles`. */
  groupsClaim?: string;
  /** Extra groups rendered from claims, e.g. `env:{environment}`; skipped if a claim is absent. */
  groupTemplates?: string[];
  /** Timeout of one JWKS or discovery fetch, in ms. Default 5000. */
  jwksTimeoutMs?: number;
  /** Minimum time between two key refetches (unknown `kid`, failed fetch), in ms. Default 30000. */
  jwksCooldownMs?: number;
  /** Age after which cached keys are refreshed in the background, in ms. Default 600000. */
  jwksMaxAgeMs?: number;
}

/** One trusted SAML 2.0 identity provider. */
export interface SamlProviderOptions {
  /** The IdP's entity id: the `Issuer` its assertions carry. */
  issuer: string;
  /** PEM certificate(s) (or public keys) the IdP signs with. */
  cert: string | string[];
  /** Our entity id, which must appear in the assertion's `AudienceRestriction`. */
  audience: string;
  /** Expected `SubjectConfirmationData/@Recipient` (our endpoint URL). Checked when set. */
  recipient?: string;
  /** Allowed clock difference in seconds. Default 60. */
  clockSkewSeconds?: number;
  /** Attributes that must be present with this value (or one of these values). */
  requiredAttributes?: Record<string, RequiredValue>;
  /** The subject the policy sees; `{nameID}` and attribute names may appear. Default `{nameID}`. */
  subjectTemplate?: string;
  /** Attribute holding group names, e.g. `http://schemas.xmlsoap.org/claims/Group`. */
  groupsAttribute?: string;
  /** Extra groups rendered from attributes. */
  groupTemplates?: string[];
}

/** An issuer with every default filled in. */
export interface ResolvedIssuer extends IssuerOptions {
  algorithms: string[];
  clockSkewSeconds: number;
  subjectTemplate: string;
  jwksTimeoutMs: number;
  jwksCooldownMs: number;
  jwksMaxAgeMs: number;
}

function invalid(message: string): PgwardenError {
  return new PgwardenError('ERR_CONFIG_INVALID', message);
}

/** Key URLs must be https, except on loopback where tests and sidecars live. */
export function checkKeyUrl(url: string, what: string): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw invalid(`${what} is not a URL: ${url}`);
  }
  const loopback = ['localhost', '127.0.0.1', '[::1]'].includes(parsed.hostname);
  if (parsed.protocol !== 'https:' && !(parsed.protocol === 'http:' && loopback)) {
    throw invalid(`${what} must use https (plain http only on loopback): ${url}`);
  }
  return parsed;
}

/** Validates one issuer and fills in defaults; throws ERR_CONFIG_INVALID. */
export function resolveIssuer(options: IssuerOptions): ResolvedIssuer {
  const name = options.issuer;
  if (typeof name !== 'string' || name.length === 0) throw invalid('issuer URL is required');
  if (!Array.isArray(options.audiences) || options.audiences.length === 0) {
    throw invalid(`issuer ${name}: at least one audience is required`);
  }
  const sources = [options.jwksUri, options.discovery, options.jwksFile].filter(Boolean);
  if (sources.length > 1) {
    throw invalid(`issuer ${name}: give only one of jwksUri, discovery, jwksFile`);
  }
  const secret = options.hs256Secret;
  // Default: the asymmetric set when keys are configured, plus HS256 when a secret is.
  const algorithms = options.algorithms ?? [
    ...(sources.length > 0 || !secret ? DEFAULT_ALGORITHMS : []),
    ...(secret ? ['HS256'] : []),
  ];
  for (const alg of algorithms) {
    if (alg.toLowerCase() === 'none') throw invalid(`issuer ${name}: alg "none" is never allowed`);
    if (!KNOWN_ALGORITHMS.has(alg)) throw invalid(`issuer ${name}: unknown algorithm ${alg}`);
    if (alg === 'HS256' && !secret) {
      throw invalid(`issuer ${name}: HS256 needs hs256Secret configured for this issuer`);
    }
  }
  const asymmetric = algorithms.some((alg) => alg !== 'HS256');
  if (asymmetric && sources.length === 0) {
    throw invalid(`issuer ${name}: needs jwksUri, discovery or jwksFile for its keys`);
  }
  if (options.jwksUri) checkKeyUrl(options.jwksUri, `issuer ${name}: jwksUri`);
  if (options.discovery) {
    const url = typeof options.discovery === 'string' ? options.discovery : name;
    checkKeyUrl(url, `issuer ${name}: discovery`);
  }
  const skew = options.clockSkewSeconds ?? 60;
  if (!Number.isFinite(skew) || skew < 0 || skew > 600) {
    throw invalid(`issuer ${name}: clockSkewSeconds must be between 0 and 600`);
  }
  return {
    ...options,
    algorithms,
    clockSkewSeconds: skew,
    subjectTemplate: options.subjectTemplate ?? '{sub}',
    jwksTimeoutMs: options.jwksTimeoutMs ?? 5_000,
    jwksCooldownMs: options.jwksCooldownMs ?? 30_000,
    jwksMaxAgeMs: options.jwksMaxAgeMs ?? 600_000,
  };
}

/** Validates one SAML provider; throws ERR_CONFIG_INVALID. */
export function checkSamlProvider(options: SamlProviderOptions): void {
  if (!options.issuer) throw invalid('SAML provider: issuer (entity id) is required');
  const certs = Array.isArray(options.cert) ? options.cert : [options.cert];
  if (certs.length === 0 || certs.some((cert) => typeof cert !== 'string' || !cert.trim())) {
    throw invalid(`SAML provider ${options.issuer}: a signing certificate is required`);
  }
  if (!options.audience) throw invalid(`SAML provider ${options.issuer}: audience is required`);
}
