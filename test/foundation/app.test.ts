// startPgwarden as `pgwarden serve` runs it, against the run's PostgreSQL and a test identity
// provider: bundle status over HTTP needs a token, a failed reload keeps the last good bundle and
// is audited, shadow divergences reach the audit trail, and no credential reaches the log.
import { writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readTrail } from '../../src/audit/query.js';
import { startPgwarden, type Pgwarden } from '../../src/cli/app.js';
import { parseConfig } from '../../src/config/index.js';
import { createLogger } from '../../src/logger.js';
import { IDP_AUDIENCE, startIdp, type TestIdp } from '../support/idp.js';
import { createDatabase, testServer } from '../support/pg.js';
import { markerBundle, tempDir } from '../policy/support.js';

const PASSWORD_ENV = 'PGW_APP_TEST_UPSTREAM_PW';
let idp: TestIdp;
let app: Pgwarden;
let dir: string;
let database: string;
let logged = '';
let closed = false;

beforeAll(async () => {
  idp = await startIdp();
  database = await createDatabase('app');
  dir = await tempDir('pgw-app-');
  await writeFile(join(dir, 'live.tgz'), await markerBundle({ name: 'live' }));
  await writeFile(join(dir, 'next.tgz'), await markerBundle({ name: 'next', allow: false }));
  const pgServer = testServer();
  process.env[PASSWORD_ENV] = pgServer.password;
  const yaml = `
instance_id: app-test
listen: { host: 127.0.0.1, port: 0, allow_plaintext_loopback: true }
upstream:
  host: ${pgServer.host}
  port: ${pgServer.port}
  user: ${pgServer.user}
  password_env: ${PASSWORD_ENV}
  allow_superuser: true
identity:
  issuers:
    - issuer: ${idp.issuer}
      audiences: [${IDP_AUDIENCE}]
      jwks_uri: ${idp.jwksUri}
policy:
  bundle: { file: live.tgz }
  shadow: { file: next.tgz }
audit: { durability: batched }
http: { host: 127.0.0.1, port: 0 }
logging: { level: debug }
`;
  const config = parseConfig(yaml, join(dir, 'pgwarden.yaml'));
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      logged += chunk.toString();
      done();
    },
  });
  app = await startPgwarden(config, createLogger({ level: 'debug', stream: sink }));
});

afterAll(async () => {
  if (!closed) await app?.close();
  await idp?.close();
  delete process.env[PASSWORD_ENV];
});

describe('startPgwarden', () => {
  it('serves bundle status to a caller with a valid bearer token only', async () => {
    const { port } = app.http!.address() as AddressInfo;
    const url = `http://127.0.0.1:${port}/v1/bundles`;
    expect((await fetch(url)).status).toBe(401);
    const token = await idp.token({ sub: 'auditor' });
    const res = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      active: { revision: 'live' },
      shadow: { bundle: { revision: 'next' } },
    });
  });

  it('keeps the last good bundle when a reload fails, and shows the failure', async () => {
    await writeFile(join(dir, 'live.tgz'), 'not a bundle');
    const status = await app.bundles!.reload();
    expect(status.active?.revision).toBe('live');
    expect(status.last_error?.message).toMatch(/\S/);
  });

  it('records each shadow divergence in the audit trail, enforcing the active bundle', async () => {
    const token = await idp.token({ sub: 'etl-job' });
    const client = new pg.Client({
      host: '127.0.0.1',
      port: app.gateway.address.port,
      user: 'etl',
      password: token,
      database,
    });
    await client.connect();
    try {
      expect((await client.query('SELECT 41 + 1 AS n')).rows[0].n).toBe(42);
    } finally {
      await client.end();
    }
    const forged = new pg.Client({
      host: '127.0.0.1',
      port: app.gateway.address.port,
      user: 'etl',
      password: token.slice(0, -4) + 'AAAA',
      database,
    });
    await expect(forged.connect()).rejects.toMatchObject({ code: '28P01' });
    await app.engine.shadowIdle();
    closed = true;
    await app.close();

    const records = [];
    for await (const r of readTrail(join(dir, '.pgwarden', 'audit'))) records.push(r);
    const divergence = records.find(
      (r) => r.kind === 'bundle' && (r as Record<string, unknown>).event === 'shadow_divergence',
    ) as Record<string, unknown> | undefined;
    expect(divergence).toMatchObject({
      subject: 'etl-job',
      differs: ['allow'],
      active: { allow: true },
      shadow: { allow: false },
    });
    // The failed load of the previous test is audited as well as shown in status.
    expect(records).toContainEqual(
      expect.objectContaining({ kind: 'bundle', event: 'failed', slot: 'active' }),
    );
    // One record per attempt, accepted or refused, in the trail's snake_case.
    const auth = records.filter((r) => r.kind === 'auth' && r.database === database) as Array<
      Record<string, unknown>
    >;
    expect(auth.map((r) => r.outcome)).toEqual(['success', 'failure']);
    for (const r of auth) {
      expect(r).toMatchObject({ client_addr: '127.0.0.1', subject: 'etl-job' });
      expect(r).not.toHaveProperty('clientAddr');
    }
    expect(logged).toContain('pgwarden started');
    expect(JSON.stringify(records)).not.toContain(token);
    expect(logged).not.toContain(token);
    expect(logged).not.toContain(testServer().password);
  });
});
