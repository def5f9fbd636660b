/**
 * Authentication refusals. Each one is a PgwardenError with an ERR_AUTH_* code, the SQLSTATE the
 * gateway sends in its FATAL ErrorResponse, and a short machine-readable `reason` for the audit
 * trail. Messages say what was wrong and never contain the credential itself.
 */
import { PgwardenError, type ErrorCode } from '../errors.js';

/** SQLSTATEs of authentication refusals: 28P01 bad credential, 28000 not authorised/locked. */
export type AuthSqlState = '28000' | '28P01';

/** Short reasons recorded in audit events; stable, so dashboards can count them. */
export type AuthReason =
  | 'malformed'
  | 'too_large'
  | 'unknown_issuer'
  | 'algorithm'
  | 'signature'
  | 'no_key'
  | 'keys_unavailable'
  | 'audience'
  | 'issuer'
  | 'expired'
  | 'not_yet_valid'
  | 'claims'
  | 'recipient'
  | 'unsigned'
  | 'locked';

/** An authentication refusal; `code` is ERR_AUTH_FAILED, ERR_AUTH_EXPIRED or ERR_AUTH_LOCKED. */
export class AuthError extends PgwardenError {
  /** SQLSTATE for the FATAL ErrorResponse the gateway sends. */
  readonly sqlstate: AuthSqlState;
  /** Why, in one stable word (see {@link AuthReason}). */
  readonly reason: AuthReason;

  constructor(
    code: Extract<ErrorCode, 'ERR_AUTH_FAILED' | 'ERR_AUTH_EXPIRED' | 'ERR_AUTH_LOCKED'>,
    reason: AuthReason,
    message: string,
    options?: { cause?: unknown; sqlstate?: AuthSqlState },
  ) {
    super(code, message, options);
    this.name = 'AuthError';
    this.reason = reason;
    this.sqlstate = options?.sqlstate ?? (code === 'ERR_AUTH_LOCKED' ? '28000' : '28P01');
  }
}

/** Shorthand for the common ERR_AUTH_FAILED refusal. */
export function authFailed(reason: AuthReason, message: string, cause?: unknown): AuthError {
  return new AuthError('ERR_AUTH_FAILED', reason, message, { cause });
}

/** Shorthand for an expired credential. */
export function authExpired(message: string, cause?: unknown): AuthError {
  return new AuthError('ERR_AUTH_EXPIRED', 'expired', message, { cause });
}
