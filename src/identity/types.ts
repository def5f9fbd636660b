/** The verified identity of a connected machine, as the policy sees it (`input.identity`). */
export interface Identity {
  /** Subject after the issuer's subject template, e.g. `repo:acme/payments:ref:refs/heads/main`. */
  subject: string;
  /** Issuer URL (OIDC `iss`, SAML Issuer). */
  issuer: string;
  /** Groups mapped from claims or attributes. */
  groups: string[];
  /** The verified claims (JWT payload, or SAML attributes). Never the token itself. */
  claims: Record<string, unknown>;
  /** Which kind of credential proved it. */
  kind: 'oidc' | 'saml';
  /** Token id (`jti`), when the token had one. */
  tokenId?: string;
  /** When the credential expires; the session may not outlive it. */
  expiresAt?: Date;
}

/** Facts about the connection that verification may use (lockout by address, audit). */
export interface AuthContext {
  clientAddr: string;
  tls: boolean;
  /** The user name the client sent in its StartupMessage. */
  user: string;
  database: string;
}

/**
 * Verifies a credential presented as the password; throws a PgwardenError (ERR_AUTH_*) on
 * refusal.
 */
export interface IdentityVerifier {
  verify(credential: string, context: AuthContext): Promise<Identity>;
  /**
   * True when the verifier reports every attempt, accepted or refused, to the audit trail itself
   * (an `onEvent` hook), so the gateway does not record the refusal a second time.
   */
  readonly audits?: boolean;
}
