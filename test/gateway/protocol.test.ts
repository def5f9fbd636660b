import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import {
  PROTOCOL_3_2,
  message,
  proxyV2Header,
  queryMessage,
  startupMessage,
} from '../../src/wire/index.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { testVerifier } from '../support/gateway-fixtures.js';
import { RawClient, errorFields } from '../support/gateway-raw.js';
import { createDatabase } from '../support/pg.js';
import type { AuthContext } from '../../src/identity/types.js';
import type { GatewayOptions } from '../../src/gateway/index.js';

let gw: TestGateway;
let database: string;
const seen: AuthContext[] = [];

beforeAll(async () => {
  database = await createDatabase('gw_proto');
  gw = await startTestGateway({ verifier: testVerifier(seen), trustedProxies: ['127.0.0.2'] });
});

afterAll(async () => {
  await gw?.close();
});

async function rawSession(): Promise<RawClient> {
  const raw = await RawClient.connect(gw.gateway.address.port);
  const greeting = await raw.login(database, 'test:raw');
  expect(greeting.at(-1)!.type).toBe(0x5a);
  return raw;
}

describe('client protocol handling', () => {
  it('refuses a bad token with 28P01 and never echoes it', async () => {
    const err = await gw.connect(database, 'not-a-valid-token-SECRET').catch((e: unknown) => e);
    expect((err as pg.DatabaseError).code).toBe('28P01');
    expect((err as Error).message).not.toContain('SECRET');
    const refused = gw.audit.of('auth').at(-1);
    expect(refused).toMatchObject({ outcome: 'failure', sqlstate: '28P01', user: 'ci' });
    expect(JSON.stringify(refused)).not.toContain('SECRET');
  });

  it('closes a connection that sends a malformed message with 08P01; others survive', async () => {
    const bystander = await gw.connect(database);
    const raw = await rawSession();
    // A Query whose text is not NUL-terminated.
    raw.write(message(0x51, Buffer.from('SELECT 1')));
    const reply = await raw.until((m) => m.type === 0x45);
    expect(errorFields(reply.at(-1)!)).toMatchObject({ S: 'FATAL', C: '08P01' });
    expect(await raw.closedByServer()).toBe(true);
    expect((await bystander.query('SELECT 1 AS x')).rows[0].x).toBe(1);
    await bystander.end();
  });

  it('closes on an impossible length, an oversized message and an unknown type', async () => {
    for (const bytes of [
      Buffer.from([0x51, 0, 0, 0, 1]),
      Buffer.from([0x51, 0x7f, 0xff, 0xff, 0xff]),
      message(0x01, Buffer.from('x')),
    ]) {
      const raw = await rawSession();
      raw.write(bytes);
      const reply = await raw.until((m) => m.type === 0x45);
      expect(errorFields(reply.at(-1)!).C).toBe('08P01');
      expect(await raw.closedByServer()).toBe(true);
    }
  });

  it('closes a connection whose startup packet is garbage', async () => {
    const raw = await RawClient.connect(gw.gateway.address.port);
    raw.write(Buffer.from([0, 0, 0, 8, 0, 9, 9, 9]));
    const reply = await raw.until((m) => m.type === 0x45);
    expect(errorFields(reply.at(-1)!).S).toBe('FATAL');
    expect(await raw.closedByServer()).toBe(true);
  });

  it('answers SSLRequest and GSSENCRequest with N when TLS is not configured', async () => {
    const raw = await RawClient.connect(gw.gateway.address.port);
    const answers: Buffer[] = [];
    raw.socket.removeAllListeners('data');
    raw.socket.on('data', (chunk: Buffer) => answers.push(chunk));
    const req = (code: number) => {
      const b = Buffer.alloc(8);
      b.writeInt32BE(8, 0);
      b.writeInt32BE(code, 4);
      return b;
    };
    raw.write(req(80877104));
    await new Promise((r) => setTimeout(r, 50));
    raw.write(req(80877103));
    await new Promise((r) => setTimeout(r, 50));
    expect(Buffer.concat(answers).toString()).toBe('NN');
    raw.end();
  });

  it('speaks protocol 3.2 with a 32-byte cancel key, and negotiates 3.3 down', async () => {
    const raw = await RawClient.connect(gw.gateway.address.port);
    const greeting = await raw.login(database, 'test:raw', PROTOCOL_3_2);
    const key = greeting.find((m) => m.type === 0x4b)!;
    expect(key.body.length).toBe(4 + 32);
    expect(greeting.some((m) => m.type === 0x76)).toBe(false);
    raw.end();
    const newer = await RawClient.connect(gw.gateway.address.port);
    newer.write(startupMessage({ user: 'raw', database, '_pq_.future': '1' }, (3 << 16) | 3));
    const first = await newer.until((m) => m.type === 0x52);
    const negotiate = first.find((m) => m.type === 0x76)!;
    expect(negotiate.body.readInt32BE(0)).toBe(2);
    expect(negotiate.body.toString('utf8', 8)).toBe('_pq_.future\0');
    newer.end();
  });

  it('refuses the function call message with 0A000 and keeps the session', async () => {
    const raw = await rawSession();
    raw.write(message(0x46, Buffer.from([0, 0, 0, 1, 0, 0, 0, 0, 0, 0])));
    const reply = await raw.until((m) => m.type === 0x5a);
    const error = reply.find((m) => m.type === 0x45)!;
    expect(errorFields(error).C).toBe('0A000');
    raw.write(queryMessage('SELECT 1'));
    const next = await raw.until((m) => m.type === 0x5a);
    expect(next.some((m) => m.type === 0x44)).toBe(true);
    raw.end();
  });

  it('ends a session when the identity token expires', async () => {
    const expiring = await startTestGateway({ verifier: expiringVerifier(400) });
    try {
      const client = await expiring.connect(database);
      const ended = new Promise<Error>((resolve) => client.on('error', resolve));
      expect((await client.query('SELECT 1 AS one')).rows[0].one).toBe(1);
      const err = await ended;
      expect((err as pg.DatabaseError).code).toBe('28000');
      expect(err.message).toMatch(/expired/);
    } finally {
      await expiring.close();
    }
  });

  it('lets the statement in flight at the deadline finish, then ends the session', async () => {
    const expiring = await startTestGateway({
      verifier: expiringVerifier(600),
      sessionGraceMs: 300,
    });
    try {
      const client = await expiring.connect(database);
      const ended = new Promise<Error>((resolve) => client.on('error', resolve));
      // Still running at exp + grace (900 ms): it completes, and nothing after it starts.
      const started = Date.now();
      const slow = await client.query('SELECT pg_sleep(1.5), 1 AS one');
      expect(slow.rows[0].one).toBe(1);
      expect(Date.now() - started).toBeGreaterThanOrEqual(1400);
      const err = await ended;
      expect((err as pg.DatabaseError).code).toBe('28000');
      expect(err.message).toMatch(/expired/);
      await expect(client.query('SELECT 2')).rejects.toThrow();
      const event = expiring.audit.of('session').find((r) => r.event === 'token_expired');
      expect(event).toMatchObject({ grace_ms: 300 });
    } finally {
      await expiring.close();
    }
  });

  it('refuses at the door a token whose session deadline has already passed', async () => {
    const expired = await startTestGateway({ verifier: expiringVerifier(-30_000) });
    try {
      await expect(expired.connect(database)).rejects.toMatchObject({
        code: '28000',
        message: expect.stringMatching(/the token has expired/),
      });
      expect(expired.audit.of('auth').at(-1)).toMatchObject({ outcome: 'failure' });
    } finally {
      await expired.close();
    }
  });

  it('refuses replication connections', async () => {
    const raw = await RawClient.connect(gw.gateway.address.port);
    raw.write(startupMessage({ user: 'raw', database, replication: 'database' }));
    const reply = await raw.until((m) => m.type === 0x45);
    expect(errorFields(reply.at(-1)!).C).toBe('0A000');
    raw.end();
  });

  it('takes the client address from a PROXY v2 header sent by a trusted proxy', async () => {
    const { default: net } = await import('node:net');
    // Connect from 127.0.0.2, which the gateway trusts as a proxy.
    const socket = net.connect({ port: gw.gateway.address.port, localAddress: '127.0.0.2' });
    await new Promise((r) => socket.once('connect', r));
    socket.write(proxyV2Header('127.9.8.7', 40000, '127.0.0.1', gw.gateway.address.port));
    socket.write(startupMessage({ user: 'proxied', database }));
    await new Promise((r) => setTimeout(r, 100));
    socket.write(message(0x70, Buffer.from('test:proxied\0')));
    await new Promise((r) => setTimeout(r, 200));
    socket.destroy();
    expect(seen.some((c) => c.clientAddr === '127.9.8.7' && c.user === 'proxied')).toBe(true);
  });

  it('does not take a PROXY header from an untrusted address', async () => {
    const raw = await RawClient.connect(gw.gateway.address.port);
    raw.write(proxyV2Header('127.9.8.6', 40000, '127.0.0.1', gw.gateway.address.port));
    const reply = await raw.until((m) => m.type === 0x45);
    expect(errorFields(reply.at(-1)!).S).toBe('FATAL');
    expect(await raw.closedByServer()).toBe(true);
    expect(seen.some((c) => c.clientAddr === '127.9.8.6')).toBe(false);
  });

  it('refuses tokens over plain TCP unless loopback plaintext is allowed', async () => {
    const strict = await startTestGateway({ allowPlaintextLoopback: false });
    try {
      const err = await strict.connect(database).catch((e: unknown) => e);
      expect((err as pg.DatabaseError).code).toBe('28000');
      expect((err as Error).message).toMatch(/requires TLS/);
    } finally {
      await strict.close();
    }
  });

  it('refuses to start with a superuser upstream account unless allowed', async () => {
    const err = await startTestGateway({
      upstream: { ...gw.options.upstream, allowSuperuser: false },
    }).catch((e: unknown) => e);
    expect((err as { code?: string }).code).toBe('ERR_CONFIG_INVALID');
  });

  it('close() ends open sessions with 57P01 and stops listening', async () => {
    const closing = await startTestGateway();
    const client = await closing.connect(database);
    const ended = new Promise<Error>((resolve) => client.on('error', resolve));
    expect(closing.gateway.sessions()).toBe(1);
    await closing.close();
    expect(((await ended) as pg.DatabaseError).code).toBe('57P01');
    expect(closing.gateway.sessions()).toBe(0);
    const refused = await closing.connect(database).catch((e: unknown) => e);
    expect((refused as { code?: string }).code).toBe('ECONNREFUSED');
  });

  it('gives the client 08006 when upstream is down', async () => {
    const direct = await startTestGateway();
    // Point new sessions at a closed port after the start-up check.
    direct.options.upstream.port = 1;
    try {
      const err = await direct.connect(database).catch((e: unknown) => e);
      expect((err as pg.DatabaseError).code).toBe('08006');
    } finally {
      await direct.close();
    }
  });
});

/** A verifier whose identities expire `inMs` from the moment they log in. */
function expiringVerifier(inMs: number): GatewayOptions['verifier'] {
  return {
    async verify() {
      return {
        subject: 'short-lived',
        issuer: 'https://test.invalid',
        groups: [],
        claims: {},
        kind: 'oidc',
        expiresAt: new Date(Date.now() + inMs),
      };
    },
  };
}
