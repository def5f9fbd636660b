/**
 * Signing keys of one issuer, cached. The keys come from OIDC discovery, a `jwks_uri`, or a
 * local JWKS file. Rules (issue 6): a token naming an unknown `kid` triggers one refetch, at most
 * one per cooldown; keys rotate without a restart; a slow or down endpoint times out and the
 * cached keys keep working; with no usable key, verification fails closed.
 *
 * jose's createRemoteJWKSet is close, but it throws once its cache is older than its max age and
 * the endpoint is down; here stale keys stay in use while a background refresh is attempted.
 */
import { readFile } from 'node:fs/promises';
import {
  createLocalJWKSet,
  type CryptoKey,
  type FlattenedJWSInput,
  type JSONWebKeySet,
  type JWSHeaderParameters,
} from 'jose';
import type { Logger } from '../logger.js';
import { authFailed } from './errors.js';
import { checkKeyUrl, type ResolvedIssuer } from './options.js';

/** Largest JWKS or discovery document accepted, so a hostile endpoint cannot exhaust memory. */
const MAX_DOCUMENT_BYTES = 512 * 1024;

/** Cached signing keys of one issuer; its `getKey` is what jose's `jwtVerify` calls. */
export class KeyStore {
  private keys: ReturnType<typeof createLocalJWKSet> | undefined;
  private fetchedAt = 0;
  private lastAttempt = Number.NEGATIVE_INFINITY;
  private inflight: Promise<boolean> | undefined;
  private discoveredJwksUri: string | undefined;
  private readonly closing = new AbortController();

  constructor(
    private readonly issuer: ResolvedIssuer,
    private readonly logger: Logger,
  ) {}

  /** True when some keys are cached (possibly stale). */
  get ready(): boolean {
    return this.keys !== undefined;
  }

  /** Starts a fetch in the background so the first login does not wait for it. */
  warm(): void {
    void this.refresh();
  }

  /** Aborts any fetch in flight; later lookups only use what is cached. */
  close(): void {
    this.closing.abort();
  }

  /** Finds the key for a token's protected header, refetching once for an unknown `kid`. */
  async getKey(header: JWSHeaderParameters, token: FlattenedJWSInput): Promise<CryptoKey> {
    if (!this.keys) await this.refresh();
    const keys = this.keys;
    if (!keys) {
      throw authFailed(
        'keys_unavailable',
        `signing keys of issuer ${this.issuer.issuer} are unavailable; try again later`,
      );
    }
    if (Date.now() - this.fetchedAt > this.issuer.jwksMaxAgeMs) this.warm();

    try {
      return await keys(header, token);
    } catch (err) {
      const code = (err as { code?: string }).code;
      // Several keys fit a token without `kid`: jose's error iterates them; jwt.ts tries each.
      if (code === 'ERR_JWKS_MULTIPLE_MATCHING_KEYS') throw err;
      if (code !== 'ERR_JWKS_NO_MATCHING_KEY') throw noKey(header, err);
    }
    // Unknown kid: the issuer may have rotated. One rate-limited refetch, then retry once.
    if (!(await this.refresh()) || !this.keys) throw noKey(header);
    try {
      return await this.keys(header, token);
    } catch (err) {
      throw noKey(header, err);
    }
  }

  /** Fetches the keys unless a fetch is in flight or the cooldown has not passed; true if new. */
  private refresh(): Promise<boolean> {
    if (this.inflight) return this.inflight;
    if (this.closing.signal.aborted) return Promise.resolve(false);
    if (Date.now() - this.lastAttempt < this.issuer.jwksCooldownMs) return Promise.resolve(false);
    this.lastAttempt = Date.now();
    this.inflight = this.load()
      .then((jwks) => {
        this.keys = createLocalJWKSet(jwks);
        this.fetchedAt = Date.now();
        return true;
      })
      .catch((err: unknown) => {
        // Cached keys, if any, stay in use: an IdP outage must not log every machine out.
        this.logger.warn(
          { issuer: this.issuer.issuer, err: (err as Error).message },
          'identity: could not fetch signing keys',
        );
        return false;
      })
      .finally(() => {
        this.inflight = undefined;
      });
    return this.inflight;
  }

  private async load(): Promise<JSONWebKeySet> {
    const { jwksFile, jwksUri, discovery } = this.issuer;
    if (jwksFile) return asJwks(JSON.parse(await readFile(jwksFile, 'utf8')));
    if (jwksUri) return asJwks(await this.fetchJson(jwksUri));
    if (discovery) {
      if (!this.discoveredJwksUri) this.discoveredJwksUri = await this.discover();
      return asJwks(await this.fetchJson(this.discoveredJwksUri));
    }
    throw new Error('no key source configured');
  }

  /** OIDC Discovery 1.0 section 4: the document's `issuer` must equal the configured one. */
  private async discover(): Promise<string> {
    const { discovery } = this.issuer;
    const url =
      typeof discovery === 'string'
        ? discovery
        : `${this.issuer.issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`;
    const doc = await this.fetchJson(url);
    if (doc === null || typeof doc !== 'object') throw new Error('discovery: not a JSON object');
    const { issuer, jwks_uri: uri } = doc as { issuer?: unknown; jwks_uri?: unknown };
    if (issuer !== this.issuer.issuer) throw new Error('discovery: issuer does not match');
    if (typeof uri !== 'string') throw new Error('discovery: no jwks_uri');
    checkKeyUrl(uri, 'discovered jwks_uri');
    return uri;
  }

  private async fetchJson(url: string): Promise<unknown> {
    const signal = AbortSignal.any([
      this.closing.signal,
      AbortSignal.timeout(this.issuer.jwksTimeoutMs),
    ]);
    const response = await fetch(url, {
      signal,
      redirect: 'error',
      headers: { accept: 'application/json' },
    });
    if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
    const text = await response.text();
    if (text.length > MAX_DOCUMENT_BYTES) throw new Error(`${url}: document too large`);
    return JSON.parse(text);
  }
}

function asJwks(value: unknown): JSONWebKeySet {
  const keys = (value as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(keys)) throw new Error('not a JWKS (no "keys" array)');
  return value as JSONWebKeySet;
}

function noKey(header: JWSHeaderParameters, cause?: unknown) {
  // The kid is named only when it looks like a key id, so hostile bytes are never echoed.
  const kid =
    typeof header.kid === 'string' && /^[\w.-]{1,64}$/.test(header.kid) ? ` "${header.kid}"` : '';
  return authFailed('no_key', `no signing key${kid} of the issuer matches the token`, cause);
}
