// Signing keys over real HTTP: rotation during a run, the JWKS endpoint down at start and
// recovering, a slow endpoint timing out while cached keys keep working, failing closed.
import { afterEach, describe, expect, it } from 'vitest';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey } from 'jose';
import { createVerifier, type ClosableVerifier } from '../../src/identity/index.js';
import { IDP_AUDIENCE, startIdp, type TestIdp } from '../support/idp.js';

const context = { clientAddr: '10.0.0.8', tls: true, user: 'ci', database: 'payments' };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const step of cleanup.reverse()) await step();
  cleanup = [];
});

async function setup(
  keys: { jwksTimeoutMs?: number; jwksCooldownMs?: number; jwksMaxAgeMs?: number } = {},
): Promise<{ idp: TestIdp; verifier: ClosableVerifier }> {
  const idp = await startIdp({ alg: 'ES256' });
  const verifier = createVerifier({
    issuers: [
      {
        issuer: idp.issuer,
        audiences: [IDP_AUDIENCE],
        discovery: true,
        jwksCooldownMs: 100,
        ...keys,
      },
    ],
    lockout: { maxAttempts: 3, durationMs: 60_000 },
  });
  cleanup.push(
    () => idp.close(),
    () => verifier.close(),
  );
  return { idp, verifier };
}

describe('JWKS cache', () => {
  it('follows a key rotation during a run without a restart', async () => {
    const { idp, verifier } = await setup();
    const before = await idp.token();
    await expect(verifier.verify(before, context)).resolves.toBeDefined();
    expect(idp.jwksRequests).toBe(1);

    await idp.rotate();
    await sleep(150);
    const after = await idp.token();
    await expect(verifier.verify(after, context)).resolves.toBeDefined();
    expect(idp.jwksRequests).toBe(2);
    // The old key was withdrawn from the JWKS: its tokens no longer verify.
    await expect(verifier.verify(before, context)).rejects.toMatchObject({ reason: 'no_key' });
  });

  it('fails closed while the JWKS is down at start, and recovers when it comes back', async () => {
    const idp = await startIdp({ alg: 'ES256' });
    await idp.stop();
    const verifier = createVerifier({
      issuers: [
        {
          issuer: idp.issuer,
          audiences: [IDP_AUDIENCE],
          jwksUri: idp.jwksUri,
          jwksCooldownMs: 100,
        },
      ],
      lockout: { maxAttempts: 2, durationMs: 60_000 },
    });
    cleanup.push(
      () => idp.close(),
      () => verifier.close(),
    );

    const token = await idp.token();
    for (let i = 0; i < 3; i++) {
      await sleep(120);
      await expect(verifier.verify(token, context)).rejects.toMatchObject({
        code: 'ERR_AUTH_FAILED',
        reason: 'keys_unavailable',
        message: expect.stringContaining('unavailable'),
      });
    }
    await idp.start();
    await sleep(120);
    // Three refusals caused by our own outage did not lock the client out (maxAttempts 2).
    const identity = await verifier.verify(token, context);
    expect(identity.subject).toBe('machine-1');
  });

  it('times out a slow JWKS and keeps using the cached keys', async () => {
    const { idp, verifier } = await setup({ jwksTimeoutMs: 200 });
    const old = await idp.token();
    await verifier.verify(old, context);

    idp.delayMs = 3_000;
    await idp.rotate();
    await sleep(150);
    const started = performance.now();
    await expect(verifier.verify(await idp.token(), context)).rejects.toMatchObject({
      reason: 'no_key',
    });
    expect(performance.now() - started).toBeLessThan(1_500);
    // The cached key still verifies tokens signed before the rotation.
    idp.delayMs = 0;
    await idp.stop();
    await expect(verifier.verify(old, context)).resolves.toBeDefined();
  });

  it('keeps stale keys working while the endpoint is down', async () => {
    const { idp, verifier } = await setup({ jwksMaxAgeMs: 0 });
    const token = await idp.token();
    await verifier.verify(token, context);
    await idp.stop();
    for (let i = 0; i < 3; i++) {
      await sleep(120);
      await expect(verifier.verify(token, context)).resolves.toBeDefined();
    }
  });

  it('refuses when the JWKS has no usable key', async () => {
    const idp = await startIdp({ alg: 'ES256' });
    const { writeFile, mkdtemp } = await import('node:fs/promises');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const file = join(await mkdtemp(join(tmpdir(), 'pgw-jwks-')), 'jwks.json');
    await writeFile(file, JSON.stringify({ keys: [] }));
    const verifier = createVerifier({
      issuers: [
        { issuer: idp.issuer, audiences: [IDP_AUDIENCE], jwksFile: file, jwksCooldownMs: 50 },
      ],
    });
    cleanup.push(
      () => idp.close(),
      () => verifier.close(),
    );
    const token = await idp.token();
    await expect(verifier.verify(token, context)).rejects.toMatchObject({ reason: 'no_key' });

    // Keys written to the file later are picked up on the next unknown kid (no restart).
    await writeFile(file, JSON.stringify({ keys: [idp.publicJwk] }));
    await sleep(80);
    await expect(verifier.verify(token, context)).resolves.toBeDefined();
  });

  it('uses an explicit discovery URL, and refuses a document naming another issuer', async () => {
    const idp = await startIdp({ alg: 'ES256' });
    const discovery = `${idp.issuer}/.well-known/openid-configuration`;
    const good = createVerifier({
      issuers: [{ issuer: idp.issuer, audiences: [IDP_AUDIENCE], discovery }],
    });
    // Same document, configured for an issuer it does not name: its keys are not trusted.
    const impostor = createVerifier({
      issuers: [{ issuer: 'http://127.0.0.1:1/other', audiences: [IDP_AUDIENCE], discovery }],
    });
    cleanup.push(
      () => idp.close(),
      () => good.close(),
      () => impostor.close(),
    );
    await expect(good.verify(await idp.token(), context)).resolves.toBeDefined();
    const token = await idp.token({}, { issuer: 'http://127.0.0.1:1/other' });
    await expect(impostor.verify(token, context)).rejects.toMatchObject({
      reason: 'keys_unavailable',
    });
  });

  it('tries each key when a token has no kid and several keys fit', async () => {
    const [a, b, stranger] = await Promise.all([1, 2, 3].map(() => generateKeyPair('ES256')));
    const { writeFile, mkdtemp } = await import('node:fs/promises');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const file = join(await mkdtemp(join(tmpdir(), 'pgw-jwks-')), 'jwks.json');
    const jwks = { keys: [await exportJWK(a!.publicKey), await exportJWK(b!.publicKey)] };
    await writeFile(file, JSON.stringify(jwks));
    const issuer = 'https://no-kid.example';
    const verifier = createVerifier({ issuers: [{ issuer, audiences: ['db'], jwksFile: file }] });
    cleanup.push(() => verifier.close());
    const sign = (key: CryptoKey, aud = 'db') =>
      new SignJWT({ sub: 'job' })
        .setProtectedHeader({ alg: 'ES256' })
        .setIssuer(issuer)
        .setAudience(aud)
        .setExpirationTime('5m')
        .sign(key);
    await expect(verifier.verify(await sign(b!.privateKey), context)).resolves.toMatchObject({
      subject: 'job',
    });
    await expect(verifier.verify(await sign(stranger!.privateKey), context)).rejects.toMatchObject({
      reason: 'signature',
    });
    await expect(verifier.verify(await sign(b!.privateKey, 'web'), context)).rejects.toMatchObject({
      reason: 'audience',
    });
  });
});
