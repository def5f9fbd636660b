/**
 * Machine identity: OIDC JWTs and SAML 2.0 assertions presented as the password, verified
 * against configured issuers and mapped to the subject and groups the policy sees.
 */
export type { AuthContext, Identity, IdentityVerifier } from './types.js';
export { AuthError, type AuthReason, type AuthSqlState } from './errors.js';
export {
  DEFAULT_ALGORITHMS,
  type IssuerOptions,
  type RequiredValue,
  type SamlProviderOptions,
} from './options.js';
export { DEFAULT_LOCKOUT, type LockoutOptions } from './lockout.js';
export {
  createVerifier,
  DEFAULT_MAX_CREDENTIAL_BYTES,
  type AuthEvent,
  type ClosableVerifier,
  type VerifierOptions,
} from './verifier.js';
export { verifyBearer, type BearerContext } from './bearer.js';
export { sessionDeadline } from './session.js';
export {
  isOAuthBearerAbort,
  oauthBearerChallenge,
  parseOAuthBearer,
  type OAuthBearerResponse,
} from './oauthbearer.js';
