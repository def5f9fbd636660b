/**
 * The one error class of pgwarden. Every failure the project raises on purpose is a
 * `PgwardenError` with a stable `code` from {@link ErrorCode}; tests and callers branch on the
 * code, never on the message. Misuse by a caller (a wrong argument type) is a `TypeError`.
 */

/** Stable error codes. Add to this list; never rename or reuse a code. */
export const ErrorCodes = [
  'ERR_CONFIG_INVALID',
  'ERR_CONFIG_SECRET',
  'ERR_NOT_SUPPORTED',
  'ERR_PROTOCOL',
  'ERR_UPSTREAM',
  'ERR_AUTH_FAILED',
  'ERR_AUTH_EXPIRED',
  'ERR_AUTH_LOCKED',
  'ERR_SQL_PARSE',
  'ERR_SQL_UNCLASSIFIED',
  'ERR_POLICY_EVAL',
  'ERR_POLICY_MALFORMED',
  'ERR_POLICY_NO_BUNDLE',
  'ERR_BUNDLE_INVALID',
  'ERR_BUNDLE_SIGNATURE',
  'ERR_REGO_COMPILE',
  'ERR_REGO_EVAL',
  'ERR_MASK_METHOD',
  'ERR_AUDIT_WRITE',
  'ERR_AUDIT_VERIFY',
  'ERR_APPROVAL',
  'ERR_INTERNAL',
] as const;

/** One of the stable error codes. */
export type ErrorCode = (typeof ErrorCodes)[number];

/** Base class of every error pgwarden raises on purpose. */
export class PgwardenError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = 'PgwardenError';
  }
}

/** Raised for a feature or input shape that is known not to be handled yet. */
export class NotSupportedError extends PgwardenError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_NOT_SUPPORTED', message, options);
    this.name = 'NotSupportedError';
  }
}

/** True when `err` is a PgwardenError, optionally with the given code. */
export function isPgwardenError(err: unknown, code?: ErrorCode): err is PgwardenError {
  return err instanceof PgwardenError && (code === undefined || err.code === code);
}
