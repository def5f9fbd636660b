/**
 * When a session must end because its credential expires. The gateway ends the session with a
 * FATAL error at this instant, after the statement in flight finishes (docs/identity.md explains
 * the trade-off).
 */
import type { Identity } from './types.js';

/**
 * The instant a session authenticated as `identity` must end: the credential's expiry plus
 * `graceMs`, or undefined when the credential carries no expiry (verification already requires
 * one for JWTs and SAML, so undefined means a custom verifier chose not to set it).
 */
export function sessionDeadline(identity: Identity, graceMs = 0): Date | undefined {
  if (!identity.expiresAt) return undefined;
  if (!(graceMs >= 0)) throw new TypeError('graceMs must be a non-negative number');
  return new Date(identity.expiresAt.getTime() + graceMs);
}
