/**
 * SASL OAUTHBEARER (RFC 7628) messages, as PostgreSQL 18's libpq speaks them: the client's
 * initial response carrying `auth=Bearer <token>`, and the server's JSON error that tells the
 * client where to get a token. The gateway owns the SASL exchange; this module only reads and
 * writes the payloads, so the token path is the same as for a cleartext password.
 */
import { PgwardenError } from '../errors.js';

/** What the client's initial response holds. */
export interface OAuthBearerResponse {
  /** The bearer token; undefined when the client asks for discovery (empty or no `auth`). */
  token: string | undefined;
  /** The authorisation identity (`a=`), when the client sent one. */
  authzid?: string;
  /** The other key/value pairs (`host`, `port`, ...). */
  pairs: Record<string, string>;
}

const KVSEP = '\x01';
/** RFC 6750 section 2.1 `b64token`. */
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;

function protocolError(message: string): PgwardenError {
  return new PgwardenError('ERR_PROTOCOL', `OAUTHBEARER: ${message}`);
}

/**
 * Parses the client's initial response (RFC 7628 section 3.1):
 * `gs2-header %x01 *(key "=" value %x01) %x01`, e.g. `n,,\x01auth=Bearer eyJ…\x01\x01`.
 * Malformed input is ERR_PROTOCOL (SQLSTATE 08P01 on the wire).
 */
export function parseOAuthBearer(data: Buffer | string): OAuthBearerResponse {
  const text = typeof data === 'string' ? data : data.toString('utf8');

  // 1. gs2-header: channel-binding flag, optional authzid. OAUTHBEARER forbids channel binding.
  const headerEnd = text.indexOf(KVSEP);
  if (headerEnd < 0) throw protocolError('no key/value separator after the GS2 header');
  const header = text.slice(0, headerEnd);
  const match = /^([ny]),(a=[^,]*)?,$/.exec(header);
  if (!match) {
    throw protocolError(
      header.startsWith('p=')
        ? 'channel binding is not supported with OAUTHBEARER'
        : 'malformed GS2 header',
    );
  }
  const authzid = match[2]?.slice(2).replace(/=2C/g, ',').replace(/=3D/g, '=');

  // 2. key=value pairs, each ended by %x01, the list ended by one more %x01.
  const rest = text.slice(headerEnd + 1);
  if (!rest.endsWith(KVSEP + KVSEP) && rest !== KVSEP) {
    throw protocolError('the message does not end with two separators');
  }
  const pairs: Record<string, string> = {};
  for (const pair of rest.slice(0, -2).split(KVSEP)) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const key = pair.slice(0, eq);
    if (eq < 1 || !/^[A-Za-z]+$/.test(key)) throw protocolError('malformed key/value pair');
    if (Object.hasOwn(pairs, key)) throw protocolError(`key "${key}" appears twice`);
    pairs[key] = pair.slice(eq + 1);
  }

  // 3. auth = "Bearer" 1*SP b64token (RFC 6750); empty or absent means "tell me the issuer".
  const auth = pairs.auth;
  delete pairs.auth;
  let token: string | undefined;
  if (auth !== undefined && auth !== '') {
    const bearer = /^Bearer +(\S+)$/i.exec(auth);
    if (!bearer || !B64TOKEN.test(bearer[1]!)) {
      throw protocolError('the auth value is not "Bearer <token>"');
    }
    token = bearer[1];
  }
  return { token, ...(authzid ? { authzid } : {}), pairs };
}

/**
 * The server's error payload (RFC 7628 section 3.2.2), sent in AuthenticationSASLContinue when
 * the client asked for discovery or its token was refused. libpq uses `openid-configuration` to
 * find the issuer (it must match the client's `oauth_issuer`) and `scope` to ask for a token.
 */
export function oauthBearerChallenge(options: { issuer: string; scope?: string }): Buffer {
  const base = options.issuer.replace(/\/+$/, '');
  return Buffer.from(
    JSON.stringify({
      status: 'invalid_token',
      'openid-configuration': `${base}/.well-known/openid-configuration`,
      ...(options.scope ? { scope: options.scope } : {}),
    }),
  );
}

/** True for the client's reply to a challenge: a single %x01, after which the server fails. */
export function isOAuthBearerAbort(data: Buffer | string): boolean {
  const text = typeof data === 'string' ? data : data.toString('utf8');
  return text === KVSEP;
}
