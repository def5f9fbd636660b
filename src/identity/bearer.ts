/**
 * `Authorization: Bearer <JWT>` for the HTTP API (approvers deciding held statements). Same
 * verifier, same lockout and audit events as the wire; only JWTs are accepted here.
 */
import type { Identity, IdentityVerifier } from './types.js';
import { authFailed } from './errors.js';
import { looksLikeJwt } from './jwt.js';

/** Facts about the HTTP request that verification uses (lockout by address, audit). */
export interface BearerContext {
  clientAddr: string;
  tls?: boolean;
}

/**
 * Verifies the `Authorization` header's bearer JWT (RFC 6750 section 2.1). A missing header, a
 * different scheme or a non-JWT value is ERR_AUTH_FAILED; the HTTP layer answers 401.
 */
export async function verifyBearer(
  verifier: IdentityVerifier,
  authorization: string | undefined,
  context: BearerContext,
): Promise<Identity> {
  const match = /^Bearer +([^\s]+) *$/i.exec(authorization ?? '');
  const token = match?.[1];
  if (!token) throw authFailed('malformed', 'missing "Authorization: Bearer <token>" header');
  if (!looksLikeJwt(token)) throw authFailed('malformed', 'the bearer token is not a JWT');
  return verifier.verify(token, {
    clientAddr: context.clientAddr,
    tls: context.tls ?? false,
    user: 'http',
    database: '',
  });
}
