// A token as the password over the PostgreSQL wire: `pg` and psql connect through the gateway
// with a JWT from the test IdP; refusals arrive as FATAL 28P01/28000 without the token.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { createVerifier, type AuthEvent, type ClosableVerifier } from '../../src/identity/index.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { IDP_AUDIENCE, SAML_AUDIENCE, startIdp, type TestIdp } from '../support/idp.js';

const exec = promisify(execFile);

describe('tokens through the gateway', () => {
  let idp: TestIdp;
  let verifier: ClosableVerifier;
  let gw: TestGateway;
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
          groupTemplates: ['repo:{repository}'],
        },
      ],
      saml: [{ issuer: idp.samlIssuer, cert: idp.samlCert, audience: SAML_AUDIENCE }],
      onEvent: (event) => events.push(event),
    });
    gw = await startTestGateway({ verifier });
  });
  afterAll(async () => {
    await gw?.close();
    verifier?.close();
    await idp?.close();
  });

  it('lets pg connect with a GitHub Actions token as the password', async () => {
    const client = await gw.connect('postgres', await idp.token({}, { shape: 'github' }));
    try {
      const { rows } = await client.query('SELECT 1 AS one');
      expect(rows).toEqual([{ one: 1 }]);
    } finally {
      await client.end();
    }
    expect(events.at(-1)).toMatchObject({
      outcome: 'success',
      subject: 'repo:acme/payments:ref:refs/heads/main',
      clientAddr: expect.stringMatching(/127\.0\.0\.1/),
    });
  });

  it('refuses an expired token with FATAL 28P01, naming the problem and not the token', async () => {
    const token = await idp.token({}, { shape: 'github', expiresIn: -600 });
    const error = await gw.connect('postgres', token).catch((err: unknown) => err);
    // The verifier's AuthError says 28P01; the gateway currently maps codes on its own.
    expect(error).toMatchObject({ severity: 'FATAL' });
    expect(['28P01', '28000']).toContain((error as { code: string }).code);
    expect((error as Error).message).toMatch(/expired/);
    expect((error as Error).message).not.toContain(token.slice(0, 30));
  });

  it('lets psql connect with a token in PGPASSWORD', async (ctx) => {
    const psql = await exec('psql', ['--version']).catch(() => undefined);
    if (!psql) ctx.skip('psql is not installed here; the client suite covers it');
    const { port } = gw.gateway.address;
    const run = await exec(
      'psql',
      [
        '-X',
        '-At',
        '-h',
        '127.0.0.1',
        '-p',
        String(port),
        '-U',
        'ci',
        '-d',
        'postgres',
        '-c',
        'SELECT 40 + 2',
      ],
      {
        env: {
          ...process.env,
          PGPASSWORD: await idp.token({}, { shape: 'github' }),
          PGSSLMODE: 'disable',
        },
        timeout: 20_000,
      },
    );
    expect(run.stdout.trim()).toBe('42');
  });

  it('lets pg connect with a base64 SAML Response as the password', async () => {
    const client = await gw.connect('postgres', idp.saml({ nameID: 'etl-bot' }));
    try {
      expect((await client.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
    } finally {
      await client.end();
    }
    expect(events.at(-1)).toMatchObject({ outcome: 'success', kind: 'saml', subject: 'etl-bot' });
  });

  it('gives pg a FATAL error for a plain password', async () => {
    const client = new pg.Client({ ...gw.config('postgres', 'hunter2') });
    const error = await client.connect().catch((err: unknown) => err);
    expect(error).toMatchObject({ severity: 'FATAL' });
    expect(['28P01', '28000']).toContain((error as { code: string }).code);
    expect((error as Error).message).not.toContain('hunter2');
  });
});
