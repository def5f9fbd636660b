// OIDC JWT verification against the test IdP over real HTTP: tokens shaped like GitHub Actions'
// and GitLab CI's, claim mapping, required claims, audit events.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createVerifier, type AuthEvent, type ClosableVerifier } from '../../src/identity/index.js';
import { IDP_AUDIENCE, startIdp, type TestIdp } from '../support/idp.js';

const context = { clientAddr: '10.0.0.7', tls: true, user: 'ci', database: 'payments' };

describe('OIDC JWT verification', () => {
  let idp: TestIdp;
  let verifier: ClosableVerifier;
  const events: AuthEvent[] = [];

  beforeAll(async () => {
    idp = await startIdp();
    verifier = createVerifier({
      issuers: [
        {
          issuer: idp.issuer,
          audiences: [IDP_AUDIENCE],
          discovery: true,
          subjectTemplate: 'repo:{repository}:ref:{ref}',
          groupsClaim: 'realm_access.roles',
          groupTemplates: ['repo:{repository}', 'env:{environment}'],
          requiredClaims: { repository_owner: 'acme' },
        },
      ],
      onEvent: (event) => events.push(event),
    });
  });
  afterAll(async () => {
    verifier.close();
    await idp.close();
  });

  it('accepts a GitHub Actions shaped token and maps subject and groups', async () => {
    const token = await idp.token(
      { realm_access: { roles: ['etl', 'readers'] }, environment: 'prod' },
      { shape: 'github' },
    );
    const identity = await verifier.verify(token, context);
    expect(identity.kind).toBe('oidc');
    expect(identity.issuer).toBe(idp.issuer);
    expect(identity.subject).toBe('repo:acme/payments:ref:refs/heads/main');
    expect(identity.groups).toEqual(['etl', 'readers', 'repo:acme/payments', 'env:prod']);
    expect(identity.claims.workflow).toBe('nightly');
    expect(identity.tokenId).toMatch(/[0-9a-f-]{36}/);
    expect(identity.expiresAt!.getTime()).toBeGreaterThan(Date.now());

    const event = events.at(-1)!;
    expect(event).toMatchObject({
      outcome: 'success',
      kind: 'oidc',
      clientAddr: '10.0.0.7',
      issuer: idp.issuer,
      subject: identity.subject,
      groups: identity.groups,
      expiresAt: identity.expiresAt!.toISOString(),
    });
    expect(event.tokenId).toBe(identity.tokenId);
    expect(JSON.stringify(events)).not.toContain(token);
  });

  it('skips a group template whose claim is absent', async () => {
    const token = await idp.token({}, { shape: 'github' });
    const identity = await verifier.verify(token, context);
    expect(identity.groups).toEqual(['repo:acme/payments']);
  });

  it('refuses a token whose required claim has another value, with SQLSTATE 28000', async () => {
    const token = await idp.token({ repository: 'evil/payments' }, { shape: 'github' });
    await expect(verifier.verify(token, context)).rejects.toMatchObject({
      code: 'ERR_AUTH_FAILED',
      reason: 'claims',
      sqlstate: '28000',
    });
    // A refusal is audited too, with what the credential claimed and never the token.
    expect(events.at(-1)).toMatchObject({
      outcome: 'failure',
      reason: 'claims',
      issuer: idp.issuer,
      subject: 'repo:evil/payments:ref:refs/heads/main',
      clientAddr: '10.0.0.7',
      tokenId: expect.stringMatching(/^[0-9a-f-]{36}$/),
      expiresAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
    });
    expect(JSON.stringify(events.at(-1))).not.toContain(token);
  });

  it('refuses a token missing a claim the subject template needs', async () => {
    const token = await idp.token({ repository_owner: 'acme' });
    await expect(verifier.verify(token, context)).rejects.toMatchObject({
      code: 'ERR_AUTH_FAILED',
      message: expect.stringContaining('subject template'),
    });
  });
});

describe('GitLab CI shaped tokens', () => {
  it('maps project path and ref through a template, from a local JWKS file', async () => {
    const idp = await startIdp({ alg: 'ES256' });
    const { writeFile, mkdtemp } = await import('node:fs/promises');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const file = join(await mkdtemp(join(tmpdir(), 'pgw-jwks-')), 'jwks.json');
    await writeFile(file, JSON.stringify({ keys: [idp.publicJwk] }));
    const verifier = createVerifier({
      issuers: [
        {
          issuer: idp.issuer,
          audiences: ['other', IDP_AUDIENCE],
          jwksFile: file,
          subjectTemplate: 'gitlab:{project_path}:{ref}',
          groupTemplates: ['ns:{namespace_path}'],
          requiredClaims: { ref_protected: 'true', pipeline_source: ['schedule', 'push'] },
        },
      ],
    });
    try {
      const identity = await verifier.verify(await idp.token({}, { shape: 'gitlab' }), context);
      expect(identity.subject).toBe('gitlab:acme/payments:main');
      expect(identity.groups).toEqual(['ns:acme']);
    } finally {
      verifier.close();
      await idp.close();
    }
  });
});

describe('Kubernetes service-account tokens', () => {
  it('maps namespace and service account from the kubernetes.io claim', async () => {
    const idp = await startIdp({ alg: 'ES256' });
    const verifier = createVerifier({
      issuers: [
        {
          issuer: idp.issuer,
          audiences: [IDP_AUDIENCE],
          jwksUri: idp.jwksUri,
          requiredClaims: { 'kubernetes.io.namespace': 'etl' },
          subjectTemplate: 'k8s:{kubernetes.io.namespace}:{kubernetes.io.serviceaccount.name}',
          groupTemplates: ['ns:{kubernetes.io.namespace}'],
        },
      ],
    });
    try {
      const token = await idp.token({ serviceAccount: 'loader' }, { shape: 'kubernetes' });
      const identity = await verifier.verify(token, context);
      expect(identity).toMatchObject({ subject: 'k8s:etl:loader', groups: ['ns:etl'] });
      const other = await idp.token({ namespace: 'web' }, { shape: 'kubernetes' });
      await expect(verifier.verify(other, context)).rejects.toMatchObject({ reason: 'claims' });
    } finally {
      verifier.close();
      await idp.close();
    }
  });
});
