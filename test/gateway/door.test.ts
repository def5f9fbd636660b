// Limits at the door and on idle sessions.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { message, startupMessage } from '../../src/wire/index.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { errorFields, RawClient } from '../support/gateway-raw.js';
import { testVerifier } from '../support/gateway-fixtures.js';
import { createDatabase } from '../support/pg.js';

let database: string;
const open: TestGateway[] = [];

beforeAll(async () => {
  database = await createDatabase('gw_door');
});

afterAll(async () => {
  await Promise.all(open.map((g) => g.close()));
});

async function gateway(options: Parameters<typeof startTestGateway>[0]): Promise<TestGateway> {
  const gw = await startTestGateway(options);
  open.push(gw);
  return gw;
}

describe('at the door', () => {
  it('refuses clients beyond max connections with 53300', async () => {
    const gw = await gateway({ maxConnections: 1 });
    const first = await gw.connect(database);
    const second = await gw.connect(database).catch((e: unknown) => e);
    expect(second).toMatchObject({ code: '53300' });
    await first.end();
  });

  it('closes an idle session with FATAL 57P05 and audits it', async () => {
    const gw = await gateway({ idleTimeoutMs: 300 });
    const client = await gw.connect(database);
    const error = new Promise<unknown>((resolve) => client.on('error', resolve));
    // A statement running longer than the timeout is not idleness.
    await client.query('SELECT pg_sleep(0.5)');
    expect(await error).toMatchObject({ code: '57P05' });
    const events = gw.audit.of('session').map((r) => r.event);
    expect(events).toContain('idle_timeout');
  });

  describe('SASL OAUTHBEARER on an opted-in listener', () => {
    const saslInitial = (data: string) => {
      const mechanism = Buffer.from('OAUTHBEARER\0');
      const length = Buffer.alloc(4);
      length.writeInt32BE(Buffer.byteLength(data));
      return message(0x70, Buffer.concat([mechanism, length, Buffer.from(data)]));
    };
    const issuer = 'https://issuer.example';

    async function start(): Promise<RawClient> {
      // Bearer tokens are b64token characters; the test verifier's `test:` form has colons.
      const verifier = testVerifier();
      const gw = await gateway({
        oauthBearer: { issuer },
        verifier: {
          verify: (token, context) => verifier.verify(token.replace(/~/g, ':'), context),
        },
      });
      const raw = await RawClient.connect(gw.gateway.address.port);
      raw.write(startupMessage({ user: 'ci', database }));
      const [request] = await raw.until((m) => m.type === 0x52);
      // AuthenticationSASL (10) naming OAUTHBEARER only.
      expect(request!.body.readInt32BE(0)).toBe(10);
      expect(request!.body.toString('utf8', 4)).toBe('OAUTHBEARER\0\0');
      return raw;
    }

    it('accepts a bearer token', async () => {
      const raw = await start();
      raw.write(saslInitial('n,,\x01auth=Bearer test~ci-job~etl\x01\x01'));
      const replies = await raw.until((m) => m.type === 0x5a || m.type === 0x45);
      expect(replies[0]!.type).toBe(0x52);
      expect(replies[0]!.body.readInt32BE(0)).toBe(0);
      expect(replies.at(-1)!.type).toBe(0x5a);
      raw.end();
    });

    it('answers discovery with the issuer, then FATAL 28000', async () => {
      const raw = await start();
      raw.write(saslInitial('n,,\x01auth=\x01\x01'));
      const [challenge] = await raw.until((m) => m.type === 0x52);
      expect(challenge!.body.readInt32BE(0)).toBe(11);
      const json = JSON.parse(challenge!.body.toString('utf8', 4));
      expect(json['openid-configuration']).toBe(`${issuer}/.well-known/openid-configuration`);
      raw.write(message(0x70, Buffer.from('\x01')));
      const [error] = await raw.until((m) => m.type === 0x45);
      expect(errorFields(error!)).toMatchObject({ S: 'FATAL', C: '28000' });
      raw.end();
    });

    it('refuses a bad token with the verifier code', async () => {
      const raw = await start();
      raw.write(saslInitial('n,,\x01auth=Bearer not-a-test-token\x01\x01'));
      const [error] = await raw.until((m) => m.type === 0x45);
      expect(errorFields(error!).C).toMatch(/^28/);
      expect(errorFields(error!).M).not.toContain('not-a-test-token');
      raw.end();
    });
  });

  it.skipIf(!existsSync('/usr/bin/psql'))(
    'a client requiring channel binding fails at once, not after a timeout',
    async () => {
      const gw = await gateway({});
      const started = Date.now();
      const env = { ...process.env, PGPASSWORD: 'test:ci-job:etl', PGCONNECT_TIMEOUT: '20' };
      const url =
        `postgresql://ci@127.0.0.1:${gw.gateway.address.port}/${database}` +
        '?sslmode=disable&channel_binding=require';
      const result = await promisify(execFile)('/usr/bin/psql', [url, '-c', 'SELECT 1'], {
        env,
      }).catch((e: { stderr: string }) => e);
      expect((result as { stderr: string }).stderr).toMatch(/channel binding/);
      expect(Date.now() - started).toBeLessThan(5_000);
    },
  );
});
