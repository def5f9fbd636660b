// Lockout per client address and per subject (PCI DSS 8.3.4), audited; and bearer headers.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createVerifier,
  sessionDeadline,
  verifyBearer,
  type AuthEvent,
  type ClosableVerifier,
} from '../../src/identity/index.js';
import { IDP_AUDIENCE, startIdp, type TestIdp } from '../support/idp.js';

const at = (clientAddr: string) => ({ clientAddr, tls: true, user: 'ci', database: 'db' });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('lockout', () => {
  let idp: TestIdp;
  let verifier: ClosableVerifier;
  const events: AuthEvent[] = [];

  beforeAll(async () => {
    idp = await startIdp();
    verifier = createVerifier({
      issuers: [{ issuer: idp.issuer, audiences: [IDP_AUDIENCE], jwksUri: idp.jwksUri }],
      lockout: { maxAttempts: 3, durationMs: 1_000 },
      onEvent: (event) => events.push(event),
    });
  });
  afterAll(async () => {
    verifier.close();
    await idp.close();
  });

  it('locks a client address after maxAttempts failures, until the duration passes', async () => {
    for (let i = 0; i < 3; i++) {
      await expect(verifier.verify('not-a-token', at('10.1.0.1'))).rejects.toMatchObject({
        code: 'ERR_AUTH_FAILED',
      });
    }
    expect(events.at(-1)!.locked).toEqual(['addr:10.1.0.1']);
    const good = await idp.token({ sub: 'etl-a' });
    const error = await verifier.verify(good, at('10.1.0.1')).catch((err: unknown) => err);
    expect(error).toMatchObject({ code: 'ERR_AUTH_LOCKED', reason: 'locked', sqlstate: '28000' });
    expect((error as Error).message).toMatch(/client address; locked until/);
    expect(events.at(-1)).toMatchObject({ outcome: 'locked', clientAddr: '10.1.0.1' });

    // Another address is not affected; the locked one recovers after the duration.
    await expect(verifier.verify(good, at('10.1.0.2'))).resolves.toBeDefined();
    await sleep(1_050);
    await expect(verifier.verify(good, at('10.1.0.1'))).resolves.toBeDefined();
  });

  it('locks a subject across addresses', async () => {
    for (let i = 0; i < 3; i++) {
      const forged = await idp.token({ sub: 'etl-b' }, { audience: 'wrong' });
      await expect(verifier.verify(forged, at(`10.2.0.${i}`))).rejects.toMatchObject({
        reason: 'audience',
      });
    }
    const good = await idp.token({ sub: 'etl-b' });
    await expect(verifier.verify(good, at('10.2.0.99'))).rejects.toMatchObject({
      code: 'ERR_AUTH_LOCKED',
      message: expect.stringContaining('subject'),
    });
    await expect(
      verifier.verify(await idp.token({ sub: 'etl-c' }), at('10.2.0.99')),
    ).resolves.toBeDefined();
  });

  it('clears the count on success', async () => {
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 2; i++) {
        await expect(verifier.verify('garbage', at('10.3.0.1'))).rejects.toBeDefined();
      }
      await expect(verifier.verify(await idp.token(), at('10.3.0.1'))).resolves.toBeDefined();
    }
  });
});

describe('bearer tokens and session deadlines', () => {
  it('verifies an Authorization header and refuses other schemes', async () => {
    const idp = await startIdp({ alg: 'EdDSA' });
    const verifier = createVerifier({
      issuers: [
        {
          issuer: idp.issuer,
          audiences: [IDP_AUDIENCE],
          discovery: true,
          groupsClaim: 'groups',
        },
      ],
    });
    try {
      const token = await idp.token({ sub: 'alice', groups: ['approvers'] });
      const identity = await verifyBearer(verifier, `Bearer ${token}`, { clientAddr: '::1' });
      expect(identity).toMatchObject({ subject: 'alice', groups: ['approvers'] });
      for (const header of [undefined, '', `Basic ${token}`, 'Bearer', 'Bearer not-a-jwt']) {
        await expect(verifyBearer(verifier, header, { clientAddr: '::1' })).rejects.toMatchObject({
          code: 'ERR_AUTH_FAILED',
        });
      }
      const deadline = sessionDeadline(identity, 30_000)!;
      expect(deadline.getTime()).toBe(identity.expiresAt!.getTime() + 30_000);
    } finally {
      verifier.close();
      await idp.close();
    }
  });
});
