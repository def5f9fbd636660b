/**
 * The identity verifier the gateway calls with the password a client sent: it recognises a
 * compact JWT or a base64 SAML assertion, applies lockout, verifies, and reports every attempt
 * as an {@link AuthEvent} (never with the credential in it).
 */
import { PgwardenError } from '../errors.js';
import type { Logger } from '../logger.js';
import { silentLogger } from '../logger.js';
import type { AuthContext, Identity, IdentityVerifier } from './types.js';
import { AuthError, authFailed, type AuthReason } from './errors.js';
import { KeyStore } from './jwks.js';
import { looksLikeJwt, peekJwt, verifyJwt, type IssuerEntry } from './jwt.js';
import { DEFAULT_LOCKOUT, Lockout, type LockoutOptions } from './lockout.js';
import { resolveIssuer, type IssuerOptions, type SamlProviderOptions } from './options.js';
import { decodeSaml, peekSaml, SamlVerifier } from './saml.js';

/** Largest credential accepted by default; bigger ones are refused before any parsing. */
export const DEFAULT_MAX_CREDENTIAL_BYTES = 128 * 1024;

/** One authentication attempt, for the audit trail. Never holds the credential. */
export interface AuthEvent {
  time: string;
  outcome: 'success' | 'failure' | 'locked';
  kind: 'oidc' | 'saml' | 'unknown';
  /** Verified issuer on success; the issuer the credential claimed on failure. */
  issuer?: string;
  /** Mapped subject on success; the unverified `sub`/NameID on failure. */
  subject?: string;
  groups?: string[];
  /** The token id (`jti`, SAML assertion ID) and expiry; on failure, as a JWT claimed them. */
  tokenId?: string;
  expiresAt?: string;
  clientAddr: string;
  user: string;
  database: string;
  /** On refusal: error code, stable reason and the message the client was sent. */
  code?: string;
  reason?: AuthReason;
  message?: string;
  /** Keys (`subject:…`, `addr:…`) that this failure locked. */
  locked?: string[];
}

/** Options of {@link createVerifier}. */
export interface VerifierOptions {
  issuers: IssuerOptions[];
  saml?: SamlProviderOptions[];
  lockout?: LockoutOptions;
  logger?: Logger;
  onEvent?: (event: AuthEvent) => void;
  /** Credentials longer than this are refused unread. Default 128 KiB. */
  maxCredentialBytes?: number;
}

/** A verifier that also owns background key fetches; `close()` stops them. */
export type ClosableVerifier = IdentityVerifier & { close(): void };

/** An untrusted NumericDate (seconds) as an ISO time, when it is a plausible one. */
function instant(seconds: unknown): string | undefined {
  if (typeof seconds !== 'number' || !Number.isFinite(seconds)) return undefined;
  const ms = seconds * 1000;
  return Math.abs(ms) <= 8.64e15 ? new Date(ms).toISOString() : undefined;
}

/** Text from an untrusted credential, bounded before it goes into an event. */
function clip(value: unknown): string | undefined {
  return typeof value === 'string' ? value.slice(0, 256) : undefined;
}

/** Builds the verifier from validated configuration; throws ERR_CONFIG_INVALID on mistakes. */
export function createVerifier(options: VerifierOptions): ClosableVerifier {
  const logger = options.logger ?? silentLogger;
  const lockout = new Lockout(options.lockout ?? DEFAULT_LOCKOUT);
  const maxBytes = options.maxCredentialBytes ?? DEFAULT_MAX_CREDENTIAL_BYTES;
  // Everything is validated before any key fetch starts, so a bad entry leaves nothing running.
  const saml = new SamlVerifier(options.saml ?? []);
  const issuers = new Map<string, IssuerEntry>();
  for (const raw of options.issuers) {
    const resolved = resolveIssuer(raw);
    if (issuers.has(resolved.issuer)) {
      throw new PgwardenError(
        'ERR_CONFIG_INVALID',
        `issuer ${resolved.issuer} is configured twice`,
      );
    }
    issuers.set(resolved.issuer, { options: resolved, keys: new KeyStore(resolved, logger) });
  }
  for (const { options: issuer, keys } of issuers.values()) {
    // An HS256-only issuer never needs its key set, so nothing is fetched for it.
    if (issuer.algorithms.some((alg) => alg !== 'HS256')) keys.warm();
  }

  function emit(event: AuthEvent): void {
    logger.info({ auth: event }, `identity: authentication ${event.outcome}`);
    try {
      options.onEvent?.(event);
    } catch (err) {
      logger.error({ err: (err as Error).message }, 'identity: onEvent hook failed');
    }
  }

  async function verify(credential: string, context: AuthContext): Promise<Identity> {
    if (typeof credential !== 'string') throw new TypeError('credential must be a string');
    const base = {
      clientAddr: context.clientAddr,
      user: context.user,
      database: context.database,
    };
    const keys = [`addr:${context.clientAddr}`];
    let kind: AuthEvent['kind'] = 'unknown';
    let claimed: { issuer?: string; subject?: string; tokenId?: string; expiresAt?: string } = {};

    try {
      // 1. Size first: a megabyte of garbage costs one comparison.
      if (Buffer.byteLength(credential, 'utf8') > maxBytes) {
        throw authFailed('too_large', `the credential is larger than ${maxBytes} bytes`);
      }
      // 2. Recognise the kind and read who it claims to be, for lockout and the audit trail.
      let run: () => Promise<Identity>;
      if (looksLikeJwt(credential)) {
        kind = 'oidc';
        const unverified = peekJwt(credential);
        claimed = {
          issuer: clip(unverified.payload.iss),
          subject: clip(unverified.payload.sub),
          tokenId: clip(unverified.payload.jti),
          expiresAt: instant(unverified.payload.exp),
        };
        run = () => verifyJwt(credential, unverified, issuers);
      } else {
        const xml = decodeSaml(credential);
        if (xml === undefined) {
          throw authFailed(
            'malformed',
            'the password is not a token: send an OIDC JWT or a base64 SAML assertion',
          );
        }
        kind = 'saml';
        const peek = peekSaml(xml);
        claimed = { issuer: clip(peek.issuer), subject: clip(peek.subject) };
        run = () => saml.verify(credential, xml);
      }
      if (claimed.subject !== undefined) {
        keys.push(`subject:${claimed.issuer ?? ''}|${claimed.subject}`);
      }
      // 3. Locked subjects and addresses are refused without verifying anything.
      const lock = lockout.locked(keys);
      if (lock) {
        const what = lock.key.startsWith('addr:') ? 'client address' : 'subject';
        throw new AuthError(
          'ERR_AUTH_LOCKED',
          'locked',
          `too many failed logins for this ${what}; locked until ${lock.until.toISOString()}`,
        );
      }
      // 4. Verify.
      const identity = await run();
      lockout.succeed(keys);
      emit({
        time: new Date().toISOString(),
        outcome: 'success',
        kind,
        issuer: identity.issuer,
        subject: identity.subject,
        groups: identity.groups,
        tokenId: identity.tokenId,
        expiresAt: identity.expiresAt?.toISOString(),
        ...base,
      });
      return identity;
    } catch (err) {
      const refusal =
        err instanceof AuthError
          ? err
          : authFailed('malformed', 'the credential could not be verified', err);
      // Our own key outage is not the client's failed attempt; a lock is not counted twice.
      const counts = refusal.reason !== 'keys_unavailable' && refusal.reason !== 'locked';
      const locked = counts ? lockout.fail(keys) : [];
      emit({
        time: new Date().toISOString(),
        outcome: refusal.reason === 'locked' ? 'locked' : 'failure',
        kind,
        ...claimed,
        ...base,
        code: refusal.code,
        reason: refusal.reason,
        message: refusal.message,
        ...(locked.length > 0 ? { locked } : {}),
      });
      throw refusal;
    }
  }

  return {
    verify,
    audits: options.onEvent !== undefined,
    close() {
      for (const entry of issuers.values()) entry.keys.close();
    },
  };
}
