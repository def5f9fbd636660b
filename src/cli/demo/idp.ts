/**
 * The demo's identity provider: an OIDC discovery document and a JWKS over HTTP on loopback,
 * with an ES256 key generated on first run and kept in the state folder, and tokens for the
 * demo identities.
 */
import { createServer, type Server } from 'node:http';
import { readFile, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, importJWK, SignJWT, type JWK } from 'jose';

/** Audience of demo tokens; the demo gateway accepts only this one. */
export const DEMO_AUDIENCE = 'pgwarden-demo';

/** A running demo identity provider. */
export interface DemoIdp {
  issuer: string;
  /** Signs a token for `subject` with `groups` and extra claims, valid for `hours`. */
  token(
    subject: string,
    groups: string[],
    hours: number,
    claims?: Record<string, unknown>,
  ): Promise<string>;
  close(): Promise<void>;
}

/** Starts the IdP on 127.0.0.1:`port` (0 for any), with its key kept in `keyFile`. */
export async function startDemoIdp(keyFile: string, port: number): Promise<DemoIdp> {
  const privateJwk = await loadOrCreateKey(keyFile);
  const privateKey = await importJWK(privateJwk, 'ES256');
  // The public half: the JWK without its private member.
  const publicJwk = { ...privateJwk };
  delete publicJwk.d;
  const jwks = { keys: [{ ...publicJwk, use: 'sig', alg: 'ES256' }] };

  let issuer = '';
  const server: Server = createServer((req, res) => {
    const send = (body: unknown) => {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    };
    if (req.url === '/.well-known/openid-configuration') {
      send({
        issuer,
        jwks_uri: `${issuer}/jwks`,
        id_token_signing_alg_values_supported: ['ES256'],
      });
    } else if (req.url === '/jwks') send(jwks);
    else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    issuer,
    token: (subject, groups, hours, claims = {}) =>
      new SignJWT({ groups, ...claims })
        .setProtectedHeader({ alg: 'ES256', kid: privateJwk.kid })
        .setIssuer(issuer)
        .setAudience(DEMO_AUDIENCE)
        .setSubject(subject)
        .setIssuedAt()
        .setJti(crypto.randomUUID())
        .setExpirationTime(`${hours}h`)
        .sign(privateKey),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

async function loadOrCreateKey(file: string): Promise<JWK> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as JWK;
  } catch {
    const { privateKey } = await generateKeyPair('ES256', { extractable: true });
    const jwk = { ...(await exportJWK(privateKey)), kid: `demo-${Date.now().toString(36)}` };
    await writeFile(file, JSON.stringify(jwk), { mode: 0o600 });
    return jwk;
  }
}
