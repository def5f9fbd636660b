// GET /v1/bundles and POST /v1/bundles/reload over real HTTP: callers authenticate with real JWTs
// from the test identity provider; reloading needs an administrative group.
import { writeFile } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { policySchema } from '../../src/config/schema-policy.js';
import { createMetrics, startHttpServer } from '../../src/http/index.js';
import { createVerifier, verifyBearer, type ClosableVerifier } from '../../src/identity/index.js';
import { startPolicy, type BundleManager, type BundleStatus } from '../../src/policy/index.js';
import { hostBuiltins } from '../../src/rego/index.js';
import { IDP_AUDIENCE, startIdp, type TestIdp } from '../support/idp.js';
import { markerBundle, tempDir } from './support.js';

let idp: TestIdp;
let verifier: ClosableVerifier;
let bundles: BundleManager;
let server: Server;
let base: string;
let dir: string;

beforeAll(async () => {
  idp = await startIdp();
  verifier = createVerifier({
    issuers: [
      { issuer: idp.issuer, audiences: [IDP_AUDIENCE], discovery: true, groupsClaim: 'groups' },
    ],
  });
  dir = await tempDir();
  await writeFile(join(dir, 'live.tgz'), await markerBundle({ name: 'live-1' }));
  await writeFile(join(dir, 'next.tgz'), await markerBundle({ name: 'next-1', allow: false }));
  const started = await startPolicy({
    policy: policySchema(dir).parse({ bundle: { file: 'live.tgz' }, shadow: { file: 'next.tgz' } }),
    builtins: hostBuiltins(),
  });
  bundles = started.bundles!;
  server = await startHttpServer({
    host: '127.0.0.1',
    port: 0,
    metrics: createMetrics(),
    ready: () => true,
    authenticate: (token) => verifyBearer(verifier, `Bearer ${token}`, { clientAddr: '127.0.0.1' }),
    adminGroups: ['policy-admins'],
    bundles,
  });
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  bundles?.close();
  verifier?.close();
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
  await idp?.close();
});

async function call(method: 'GET' | 'POST', path: string, authorization?: string) {
  const res = await fetch(base + path, {
    method,
    headers: authorization ? { authorization } : {},
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe('bundle API', () => {
  it('refuses callers without a valid bearer token, on both routes', async () => {
    const forged = await idp.token(
      { sub: 'ops', groups: ['policy-admins'] },
      { audience: 'other' },
    );
    for (const [method, path] of [
      ['GET', '/v1/bundles'],
      ['POST', '/v1/bundles/reload'],
    ] as const) {
      for (const authorization of [undefined, 'Basic b3BzOnB3', `Bearer ${forged}`]) {
        const res = await call(method, path, authorization);
        expect(res.status, `${method} ${path} ${authorization ?? 'no header'}`).toBe(401);
        expect(res.body).not.toHaveProperty('active');
      }
    }
  });

  it('shows active and shadow bundles to an authenticated caller', async () => {
    const token = await idp.token({ sub: 'auditor', groups: ['readers'] });
    const { status, body } = await call('GET', '/v1/bundles', `Bearer ${token}`);
    expect(status).toBe(200);
    const bundle = {
      revision: expect.any(String),
      hash: expect.stringMatching(/^[0-9a-f]{64}$/),
      source: expect.any(String),
      loaded_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
    };
    expect(body).toMatchObject({
      active: { ...bundle, revision: 'live-1' },
      last_error: null,
      shadow: { bundle: { ...bundle, revision: 'next-1' }, last_error: null },
    });
  });

  it('reloads only for an administrative group, and reports a failed load in status', async () => {
    const reader = await idp.token({ sub: 'auditor', groups: ['readers'] });
    const refused = await call('POST', '/v1/bundles/reload', `Bearer ${reader}`);
    expect(refused.status).toBe(403);
    expect(refused.body.error).toMatch(/policy-admins/);

    const admin = `Bearer ${await idp.token({ sub: 'ops', groups: ['policy-admins'] })}`;
    await writeFile(join(dir, 'live.tgz'), await markerBundle({ name: 'live-2' }));
    const swapped = await call('POST', '/v1/bundles/reload', admin);
    expect(swapped.status).toBe(200);
    expect((swapped.body as unknown as BundleStatus).active?.revision).toBe('live-2');

    // A broken file leaves the last good bundle in force, with the failure visible.
    await writeFile(join(dir, 'live.tgz'), 'not a bundle');
    const failed = await call('POST', '/v1/bundles/reload', admin);
    expect(failed.status).toBe(200);
    const status = failed.body as unknown as BundleStatus;
    expect(status.active?.revision).toBe('live-2');
    expect(status.last_error?.message).toMatch(/\S/);
    const shown = await call('GET', '/v1/bundles', admin);
    expect((shown.body as unknown as BundleStatus).last_error).toEqual(status.last_error);
  });
});
