// Every attack listed in issue 6, each refused with the right code, reason and SQLSTATE, and
// without the token in the message.
import { createPublicKey } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { generateKeyPair, SignJWT } from 'jose';
import { createVerifier, type ClosableVerifier } from '../../src/identity/index.js';
import { IDP_AUDIENCE, startIdp, type TestIdp } from '../support/idp.js';

const context = { clientAddr: '10.0.0.9', tls: true, user: 'ci', database: 'payments' };

function b64url(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

describe('JWT attacks', () => {
  const attackerKey = generateKeyPair('RS256');
  let idp: TestIdp;
  let verifier: ClosableVerifier;

  beforeAll(async () => {
    idp = await startIdp();
    verifier = createVerifier({
      issuers: [{ issuer: idp.issuer, audiences: [IDP_AUDIENCE], jwksUri: idp.jwksUri }],
      // Lockout would turn later attacks into ERR_AUTH_LOCKED; it has its own test file.
      lockout: { maxAttempts: 1000, durationMs: 1000 },
    });
  });
  afterAll(async () => {
    verifier.close();
    await idp.close();
  });

  async function refused(token: string, expected: Record<string, unknown>) {
    const error = await verifier.verify(token, context).then(
      () => undefined,
      (err: unknown) => err as Error & Record<string, unknown>,
    );
    expect(error, 'the token was accepted').toBeDefined();
    expect(error).toMatchObject(expected);
    expect(error!.message).not.toContain(token.slice(0, 40));
    expect(['28000', '28P01']).toContain(error!.sqlstate);
    return error!;
  }

  function validClaims() {
    const now = Math.floor(Date.now() / 1000);
    return { iss: idp.issuer, aud: IDP_AUDIENCE, sub: 'machine-1', iat: now, exp: now + 300 };
  }

  it('accepts a genuine token (the baseline the attacks start from)', async () => {
    const identity = await verifier.verify(await idp.token(), context);
    expect(identity.subject).toBe('machine-1');
  });

  it('refuses alg "none"', async () => {
    const token = `${b64url({ alg: 'none', typ: 'JWT' })}.${b64url(validClaims())}.`;
    await refused(token, { code: 'ERR_AUTH_FAILED', reason: 'algorithm' });
    const upper = `${b64url({ alg: 'NONE' })}.${b64url(validClaims())}.`;
    await refused(upper, { code: 'ERR_AUTH_FAILED', reason: 'algorithm' });
  });

  it("refuses HS256 signed with the issuer's RSA public key as the secret", async () => {
    const jwk = idp.publicJwk;
    const pem = createPublicKey({ key: jwk as never, format: 'jwk' })
      .export({ type: 'spki', format: 'pem' })
      .toString();
    for (const secret of [pem, JSON.stringify(jwk), String(jwk.n)]) {
      const token = await new SignJWT(validClaims())
        .setProtectedHeader({ alg: 'HS256', kid: idp.kid })
        .sign(new TextEncoder().encode(secret));
      await refused(token, { code: 'ERR_AUTH_FAILED', reason: 'algorithm' });
    }
  });

  it('refuses a wrong audience', async () => {
    const token = await idp.token({}, { audience: 'some-other-service' });
    const error = await refused(token, { code: 'ERR_AUTH_FAILED', reason: 'audience' });
    expect(error.message).toMatch(/audience/);
  });

  it('refuses a wrong issuer', async () => {
    const token = await idp.token({}, { issuer: 'https://attacker.example' });
    await refused(token, { code: 'ERR_AUTH_FAILED', reason: 'unknown_issuer', sqlstate: '28000' });
  });

  it('refuses an expired token with ERR_AUTH_EXPIRED, beyond the clock skew only', async () => {
    const expired = await idp.token({}, { expiresIn: -120 });
    const error = await refused(expired, { code: 'ERR_AUTH_EXPIRED', reason: 'expired' });
    expect(error.message).toMatch(/expired/);
    // 30 s past exp is inside the default 60 s skew.
    await expect(
      verifier.verify(await idp.token({}, { expiresIn: -30 }), context),
    ).resolves.toBeDefined();
  });

  it('refuses a token whose nbf is in the future', async () => {
    const token = await idp.token({}, { notBefore: 600 });
    await refused(token, { code: 'ERR_AUTH_FAILED', reason: 'not_yet_valid' });
  });

  it('refuses a token issued in the future, beyond the clock skew only', async () => {
    const token = await idp.token({}, { issuedAt: 86_400 });
    const error = await refused(token, { code: 'ERR_AUTH_FAILED', reason: 'not_yet_valid' });
    expect(error.message).toMatch(/issued in the future/);
    // 30 s ahead is inside the default 60 s skew.
    await expect(
      verifier.verify(await idp.token({}, { issuedAt: 30 }), context),
    ).resolves.toBeDefined();
  });

  it('refuses a token signed by another key under the real kid', async () => {
    const { privateKey } = await attackerKey;
    const token = await new SignJWT(validClaims())
      .setProtectedHeader({ alg: 'RS256', kid: idp.kid })
      .sign(privateKey);
    await refused(token, { code: 'ERR_AUTH_FAILED', reason: 'signature' });
  });

  it('refuses an unknown kid, refetching the JWKS at most once per cooldown', async () => {
    const { privateKey } = await attackerKey;
    const before = idp.jwksRequests;
    for (let i = 0; i < 5; i++) {
      const token = await new SignJWT(validClaims())
        .setProtectedHeader({ alg: 'RS256', kid: `attacker-${i}` })
        .sign(privateKey);
      const error = await refused(token, { code: 'ERR_AUTH_FAILED', reason: 'no_key' });
      expect(error.message).toContain(`attacker-${i}`);
    }
    expect(idp.jwksRequests - before).toBeLessThanOrEqual(1);
  });

  it('refuses a payload edited after signing', async () => {
    const [header, payload, signature] = (await idp.token()).split('.');
    const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString());
    const edited = `${header}.${b64url({ ...claims, sub: 'admin' })}.${signature}`;
    await refused(edited, { code: 'ERR_AUTH_FAILED', reason: 'signature' });
  });

  it('refuses a 1 MB token fast, before parsing it', async () => {
    const token = `${b64url({ alg: 'RS256' })}.${'A'.repeat(1024 * 1024)}.sig`;
    const started = performance.now();
    await refused(token, { code: 'ERR_AUTH_FAILED', reason: 'too_large' });
    expect(performance.now() - started).toBeLessThan(250);
  });

  it('refuses any one-character change to the header or payload of a genuine token', async () => {
    const token = await idp.token();
    const signed = token.slice(0, token.lastIndexOf('.'));
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    await fc.assert(
      fc.asyncProperty(
        fc.nat({ max: signed.length - 1 }),
        fc.constantFrom(...alphabet),
        async (at, char) => {
          fc.pre(signed[at] !== '.' && signed[at] !== char);
          const mutated = `${signed.slice(0, at)}${char}${token.slice(at + 1)}`;
          await expect(verifier.verify(mutated, context)).rejects.toMatchObject({
            code: expect.stringMatching(/^ERR_AUTH_/),
          });
        },
      ),
      { numRuns: 60 },
    );
  });

  it('refuses a plain password and a five-part JWE', async () => {
    await refused('hunter2', { code: 'ERR_AUTH_FAILED', reason: 'malformed' });
    await refused('a.b.c.d.e', { code: 'ERR_AUTH_FAILED', reason: 'malformed' });
  });
});

describe('HS256 with a configured secret', () => {
  it('accepts the shared secret and refuses any other', async () => {
    const issuer = 'https://hs.example';
    const secret = 's3cret-of-32-bytes-or-more-xxxxxxx';
    const verifier = createVerifier({
      issuers: [{ issuer, audiences: ['db'], hs256Secret: () => secret }],
    });
    const sign = (secret: string) =>
      new SignJWT({ sub: 'job' })
        .setProtectedHeader({ alg: 'HS256' })
        .setIssuer(issuer)
        .setAudience('db')
        .setExpirationTime('5m')
        .sign(new TextEncoder().encode(secret));
    try {
      const identity = await verifier.verify(await sign(secret), context);
      expect(identity.subject).toBe('job');
      await expect(verifier.verify(await sign('guess'), context)).rejects.toMatchObject({
        code: 'ERR_AUTH_FAILED',
        reason: 'signature',
      });
      const noExp = await new SignJWT({ sub: 'job' })
        .setProtectedHeader({ alg: 'HS256' })
        .setIssuer(issuer)
        .setAudience('db')
        .sign(new TextEncoder().encode(secret));
      await expect(verifier.verify(noExp, context)).rejects.toMatchObject({
        code: 'ERR_AUTH_FAILED',
        reason: 'claims',
        message: expect.stringContaining('"exp"'),
      });
    } finally {
      verifier.close();
    }
  });
});

describe('configuration is checked up front', () => {
  const base = {
    issuer: 'https://idp.example',
    audiences: ['db'],
    jwksUri: 'https://idp.example/k',
  };
  it.each([
    ['alg none', { ...base, algorithms: ['none'] }],
    ['HS256 without a secret', { ...base, algorithms: ['RS256', 'HS256'] }],
    ['no audience', { ...base, audiences: [] }],
    ['plain http key URL off loopback', { ...base, jwksUri: 'http://idp.example/k' }],
    ['no key source', { issuer: 'https://idp.example', audiences: ['db'] }],
    ['two key sources', { ...base, discovery: true }],
  ])('refuses %s', (_name, issuer) => {
    expect(() => createVerifier({ issuers: [issuer] })).toThrow(
      expect.objectContaining({ code: 'ERR_CONFIG_INVALID' }),
    );
  });

  it('refuses an issuer or SAML provider listed twice', () => {
    expect(() => createVerifier({ issuers: [base, base] })).toThrow(/twice/);
    const saml = { issuer: 'urn:idp', cert: 'PEM', audience: 'urn:sp' };
    expect(() => createVerifier({ issuers: [], saml: [saml, saml] })).toThrow(/twice/);
  });
});
