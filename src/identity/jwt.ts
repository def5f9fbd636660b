/**
 * OIDC JWT verification (RFC 7519 / RFC 7515 compact form) against the configured issuers:
 * issuer picked by the unverified `iss`, then signature, `alg`, `iss`, `aud`, `exp`, `nbf`
 * checked by jose, then required claims and the mapping to subject and groups.
 */
import {
  decodeJwt,
  decodeProtectedHeader,
  jwtVerify,
  type CryptoKey,
  type FlattenedJWSInput,
  type JWSHeaderParameters,
  type JWTPayload,
  type JWTVerifyOptions,
} from 'jose';
import type { Identity } from './types.js';
import { AuthError, authExpired, authFailed } from './errors.js';
import { checkRequired, mapGroups, mapSubject } from './claims.js';
import type { KeyStore } from './jwks.js';
import type { ResolvedIssuer } from './options.js';

/** Compact JWS: three base64url parts. A JWE (five parts) is not accepted. */
const COMPACT_JWT = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

/** True when the credential has the shape of a compact JWT. */
export function looksLikeJwt(credential: string): boolean {
  return COMPACT_JWT.test(credential);
}

/** One configured issuer with its key cache. */
export interface IssuerEntry {
  options: ResolvedIssuer;
  keys: KeyStore;
}

/** What can be read from a JWT without verifying it, for choosing the issuer and for lockout. */
export interface UnverifiedJwt {
  header: JWSHeaderParameters;
  payload: JWTPayload;
}

/** Decodes header and payload without trusting them; throws ERR_AUTH_FAILED if unreadable. */
export function peekJwt(token: string): UnverifiedJwt {
  try {
    return { header: decodeProtectedHeader(token), payload: decodeJwt(token) };
  } catch {
    throw authFailed('malformed', 'the token is not a readable JWT');
  }
}

/** Verifies a JWT from one of `issuers`; returns the identity the policy will see. */
export async function verifyJwt(
  token: string,
  unverified: UnverifiedJwt,
  issuers: ReadonlyMap<string, IssuerEntry>,
): Promise<Identity> {
  const { header, payload } = unverified;

  // 1. Refuse unsigned tokens before anything else looks at them.
  if (typeof header.alg !== 'string' || header.alg.toLowerCase() === 'none') {
    throw authFailed('algorithm', 'unsigned token (alg "none") refused');
  }
  // 2. The issuer decides which keys and rules apply; an unknown one is refused.
  const entry = typeof payload.iss === 'string' ? issuers.get(payload.iss) : undefined;
  if (!entry) {
    throw new AuthError('ERR_AUTH_FAILED', 'unknown_issuer', 'token from an unknown issuer', {
      sqlstate: '28000',
    });
  }
  const issuer = entry.options;
  // 3. The algorithm must be one this issuer is configured for (HS256 only with its secret).
  if (!issuer.algorithms.includes(header.alg)) {
    throw authFailed('algorithm', `algorithm ${safeAlg(header.alg)} not accepted for this issuer`);
  }

  // 4. Signature and registered claims, by jose.
  const verified = await verifySignatureAndClaims(token, entry);

  // 5. Site rules and mapping.
  const claims = verified as Record<string, unknown>;
  checkRequired(claims, issuer.requiredClaims);
  const identity: Identity = {
    subject: mapSubject(issuer.subjectTemplate, claims),
    issuer: issuer.issuer,
    groups: mapGroups(claims, issuer.groupsClaim, issuer.groupTemplates),
    claims,
    kind: 'oidc',
  };
  if (typeof verified.jti === 'string') identity.tokenId = verified.jti;
  if (typeof verified.exp === 'number') identity.expiresAt = new Date(verified.exp * 1000);
  return identity;
}

async function verifySignatureAndClaims(token: string, entry: IssuerEntry): Promise<JWTPayload> {
  const payload = await verifyWithJose(token, entry);
  // jose checks `iat` only against a maximum token age; a token issued in the future is as
  // suspect as one not valid yet, within the same clock tolerance.
  const skew = entry.options.clockSkewSeconds;
  if (typeof payload.iat === 'number' && payload.iat > Date.now() / 1000 + skew) {
    throw authFailed('not_yet_valid', 'the token was issued in the future');
  }
  return payload;
}

async function verifyWithJose(token: string, entry: IssuerEntry): Promise<JWTPayload> {
  const { options: issuer } = entry;
  const rules: JWTVerifyOptions = {
    issuer: issuer.issuer,
    audience: issuer.audiences,
    algorithms: issuer.algorithms,
    clockTolerance: issuer.clockSkewSeconds,
    requiredClaims: ['exp'],
  };
  try {
    return (await jwtVerify(token, keyResolver(entry), rules)).payload;
  } catch (err) {
    if ((err as { code?: string }).code !== 'ERR_JWKS_MULTIPLE_MATCHING_KEYS') throw translate(err);
    // No `kid` and several keys fit: the first key whose signature verifies decides.
    for await (const key of err as AsyncIterable<CryptoKey>) {
      try {
        return (await jwtVerify(token, key, rules)).payload;
      } catch (attempt) {
        const code = (attempt as { code?: string }).code;
        if (code !== 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED') throw translate(attempt);
      }
    }
    throw authFailed('signature', 'bad token signature');
  }
}

function keyResolver(entry: IssuerEntry) {
  return async (
    header: JWSHeaderParameters,
    token: FlattenedJWSInput,
  ): Promise<CryptoKey | Uint8Array> => {
    if (header.alg === 'HS256') {
      const secret = entry.options.hs256Secret?.();
      // Unreachable with a validated configuration, but never fall back to any other key.
      if (!secret) throw authFailed('algorithm', 'HS256 is not configured for this issuer');
      return new TextEncoder().encode(secret);
    }
    return entry.keys.getKey(header, token);
  };
}

function safeAlg(alg: string): string {
  return /^[A-Za-z0-9]{1,16}$/.test(alg) ? alg : '(unrecognised)';
}

/**
 * Maps jose's errors to refusals. jose's claim errors carry the payload; they are not kept as
 * `cause` so that a logged error cannot carry claims or token material.
 */
function translate(err: unknown): AuthError {
  if (err instanceof AuthError) return err;
  const { code, claim } = err as { code?: string; claim?: string };
  switch (code) {
    case 'ERR_JWT_EXPIRED':
      return authExpired('the token has expired');
    case 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED':
      return authFailed('signature', 'bad token signature');
    case 'ERR_JOSE_ALG_NOT_ALLOWED':
      return authFailed('algorithm', 'token algorithm not accepted for this issuer');
    case 'ERR_JWT_CLAIM_VALIDATION_FAILED':
      if (claim === 'aud') return authFailed('audience', 'wrong audience (aud) for this gateway');
      if (claim === 'iss') return authFailed('issuer', 'wrong issuer (iss)');
      if (claim === 'nbf') return authFailed('not_yet_valid', 'the token is not valid yet (nbf)');
      if (claim === 'iat') return authFailed('not_yet_valid', 'the token was issued in the future');
      return authFailed('claims', `token claim "${claim ?? '?'}" is missing or invalid`);
    default:
      return authFailed('malformed', 'the token could not be verified');
  }
}
