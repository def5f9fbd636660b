// SAML 2.0 assertions as the password: signed Responses and bare Assertions accepted; wrong
// audience, wrong recipient, expired, unsigned, tampered and wrapped assertions refused.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKeyPairSync } from 'node:crypto';
import { createVerifier, type AuthEvent, type ClosableVerifier } from '../../src/identity/index.js';
import {
  SAML_AUDIENCE,
  SAML_RECIPIENT,
  signAssertion,
  startIdp,
  type TestIdp,
} from '../support/idp.js';

const context = { clientAddr: '10.0.0.5', tls: true, user: 'etl', database: 'payments' };
const GROUPS = 'http://schemas.xmlsoap.org/claims/Group';

const xmlOf = (b64: string) => Buffer.from(b64, 'base64').toString('utf8');
const b64Of = (xml: string) => Buffer.from(xml).toString('base64');

describe('SAML assertions', () => {
  let idp: TestIdp;
  let verifier: ClosableVerifier;
  const events: AuthEvent[] = [];

  beforeAll(async () => {
    idp = await startIdp();
    verifier = createVerifier({
      issuers: [],
      saml: [
        {
          issuer: idp.samlIssuer,
          cert: idp.samlCert,
          audience: SAML_AUDIENCE,
          recipient: SAML_RECIPIENT,
          subjectTemplate: 'saml:{nameID}',
          groupsAttribute: GROUPS,
          groupTemplates: ['dept:{department}'],
          requiredAttributes: { department: ['finance', 'ops'] },
        },
      ],
      lockout: { maxAttempts: 1000, durationMs: 1000 },
      onEvent: (event) => events.push(event),
    });
  });
  afterAll(async () => {
    verifier.close();
    await idp.close();
  });

  const attributes = { [GROUPS]: ['etl', 'readers'], department: 'finance' };

  async function refused(credential: string, expected: Record<string, unknown>) {
    const error = await verifier.verify(credential, context).then(
      () => undefined,
      (err: unknown) => err as Error,
    );
    expect(error, 'the assertion was accepted').toBeDefined();
    expect(error).toMatchObject(expected);
    return error!;
  }

  it('accepts a signed Response and maps NameID and attributes', async () => {
    const identity = await verifier.verify(idp.saml({ nameID: 'etl-bot', attributes }), context);
    expect(identity).toMatchObject({
      kind: 'saml',
      issuer: idp.samlIssuer,
      subject: 'saml:etl-bot',
      groups: ['etl', 'readers', 'dept:finance'],
    });
    expect(identity.tokenId).toMatch(/^_/);
    expect(identity.expiresAt!.getTime()).toBeGreaterThan(Date.now());
    expect(events.at(-1)).toMatchObject({ outcome: 'success', kind: 'saml' });
  });

  it('accepts a bare signed Assertion', async () => {
    const identity = await verifier.verify(idp.saml({ attributes, bare: true }), context);
    expect(identity.subject).toBe('saml:etl-bot');
  });

  it('refuses a wrong audience', async () => {
    await refused(idp.saml({ attributes, audience: 'urn:someone-else' }), {
      code: 'ERR_AUTH_FAILED',
      reason: 'audience',
    });
  });

  it('refuses a wrong recipient', async () => {
    await refused(idp.saml({ attributes, recipient: 'https://elsewhere.example/acs' }), {
      code: 'ERR_AUTH_FAILED',
      reason: 'recipient',
    });
  });

  it('refuses an expired assertion and one not yet valid', async () => {
    await refused(idp.saml({ attributes, expiresIn: -300 }), {
      code: 'ERR_AUTH_EXPIRED',
      reason: 'expired',
    });
    await refused(idp.saml({ attributes, notBefore: 600, expiresIn: 900 }), {
      reason: 'not_yet_valid',
    });
  });

  it('refuses unsigned assertions, in a Response and bare', async () => {
    await refused(idp.saml({ attributes, signed: false }), { reason: 'unsigned' });
    await refused(idp.saml({ attributes, signed: false, bare: true }), { reason: 'unsigned' });
  });

  it('refuses an assertion signed by another key', async () => {
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    const unsigned = xmlOf(idp.saml({ attributes, signed: false, bare: true }));
    await refused(b64Of(signAssertion(unsigned, other)), { reason: 'signature' });
  });

  it('refuses an assertion edited after signing', async () => {
    const xml = xmlOf(idp.saml({ nameID: 'etl-bot', attributes }));
    await refused(b64Of(xml.replace('>etl-bot<', '>admin<')), { reason: 'signature' });
  });

  it('refuses a missing required attribute', async () => {
    await refused(idp.saml({ attributes: { [GROUPS]: 'etl' } }), {
      reason: 'claims',
      sqlstate: '28000',
    });
  });

  it('refuses an unknown issuer', async () => {
    await refused(idp.saml({ attributes, issuer: 'https://evil.example/saml' }), {
      reason: 'unknown_issuer',
    });
  });

  describe('signature wrapping', () => {
    const evilOf = (signed: string) =>
      signed
        .replace(/ID="(_[^"]+)"/, 'ID="_evil"')
        .replace('>etl-bot<', '>admin<')
        .replace(/<(ds:)?Signature[\s\S]*<\/(ds:)?Signature>/, '');

    it('refuses a second, unsigned assertion next to the signed one', async () => {
      const xml = xmlOf(idp.saml({ attributes }));
      const signed = /<saml:Assertion[\s\S]*<\/saml:Assertion>/.exec(xml)![0];
      const wrapped = xml.replace(signed, evilOf(signed) + signed);
      await refused(b64Of(wrapped), { code: 'ERR_AUTH_FAILED', reason: 'signature' });
    });

    it('refuses an evil assertion carrying the signed one inside it', async () => {
      const xml = xmlOf(idp.saml({ attributes }));
      const signed = /<saml:Assertion[\s\S]*<\/saml:Assertion>/.exec(xml)![0];
      const signature = /<(ds:)?Signature[\s\S]*<\/(ds:)?Signature>/.exec(signed)![0];
      // XSW: the evil assertion carries the original signature, the signed original hides in
      // an Advice element, so the reference still resolves to genuinely signed bytes.
      const evil = evilOf(signed)
        .replace('</saml:Issuer>', `</saml:Issuer>${signature}`)
        .replace('<saml:Conditions', `<saml:Advice>${signed}</saml:Advice><saml:Conditions`);
      for (const credential of [xml.replace(signed, evil), evil]) {
        const error = await refused(b64Of(credential), {
          code: 'ERR_AUTH_FAILED',
          reason: 'signature',
        });
        expect(error.message).not.toContain('admin');
      }
    });

    it('refuses a document type declaration', async () => {
      const xml = xmlOf(idp.saml({ attributes }));
      const doctype = `<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaa">]>${xml}`;
      await refused(b64Of(doctype), { reason: 'malformed' });
    });
  });
});

describe('SAML with an X.509 certificate', () => {
  it('verifies against the certificate PEM an IdP publishes in its metadata', async (ctx) => {
    const { execFileSync } = await import('node:child_process');
    const { mkdtemp, readFile } = await import('node:fs/promises');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const { createPrivateKey } = await import('node:crypto');
    const dir = await mkdtemp(join(tmpdir(), 'pgw-saml-'));
    try {
      execFileSync(
        'openssl',
        [
          'req',
          '-x509',
          '-newkey',
          'rsa:2048',
          '-nodes',
          '-days',
          '1',
          '-subj',
          '/CN=test-idp',
          '-keyout',
          join(dir, 'key.pem'),
          '-out',
          join(dir, 'cert.pem'),
        ],
        { stdio: 'ignore' },
      );
    } catch {
      ctx.skip('openssl is not installed, so no X.509 certificate can be made here');
    }
    const key = createPrivateKey(await readFile(join(dir, 'key.pem')));
    const cert = await readFile(join(dir, 'cert.pem'), 'utf8');
    const idp = await startIdp();
    const verifier = createVerifier({
      issuers: [],
      saml: [{ issuer: idp.samlIssuer, cert, audience: SAML_AUDIENCE }],
    });
    try {
      const unsigned = xmlOf(idp.saml({ signed: false, bare: true }));
      const identity = await verifier.verify(b64Of(signAssertion(unsigned, key)), context);
      expect(identity.subject).toBe('etl-bot');
      expect(identity.groups).toEqual([]);
      // The IdP's own key is not the certificate's: refused.
      await expect(verifier.verify(idp.saml({ bare: true }), context)).rejects.toMatchObject({
        reason: 'signature',
      });
    } finally {
      verifier.close();
      await idp.close();
    }
  });
});
