import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { message, parseMessage, syncMessage } from '../../src/wire/index.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { functionDecider } from '../support/gateway-fixtures.js';
import { RawClient, errorFields } from '../support/gateway-raw.js';
import { createDatabase, directClient, testServer } from '../support/pg.js';

let gw: TestGateway;
let database: string;

beforeAll(async () => {
  database = await createDatabase('gw_pipe');
  const admin = await directClient(database);
  await admin.query('CREATE TABLE log (v int)');
  await admin.end();
  const decider = functionDecider((input) =>
    input.statement.text.includes('forbidden') ? { allow: false, reasons: ['forbidden'] } : {},
  );
  gw = await startTestGateway({ decider: () => decider });
});

afterAll(async () => {
  await gw?.close();
});

function bind(portal: string, statement: string): Buffer {
  const body = Buffer.concat([
    Buffer.from(`${portal}\0${statement}\0`),
    Buffer.from([0, 0, 0, 0, 0, 0]),
  ]);
  return message(0x42, body);
}

function execute(portal: string): Buffer {
  return message(0x45, Buffer.concat([Buffer.from(`${portal}\0`), Buffer.alloc(4)]));
}

describe('extended protocol pipelining', () => {
  it('skips to Sync after a refusal mid-pipeline and runs nothing of the batch', async () => {
    const raw = await RawClient.connect(gw.gateway.address.port);
    await raw.login(database, 'test:pipeliner');
    raw.write(
      Buffer.concat([
        parseMessage('', 'INSERT INTO log VALUES (1)'),
        bind('', ''),
        execute(''),
        parseMessage('', 'SELECT 1 /* forbidden */'),
        bind('', ''),
        execute(''),
        parseMessage('', 'INSERT INTO log VALUES (3)'),
        bind('', ''),
        execute(''),
        syncMessage(),
        parseMessage('', 'SELECT 42'),
        bind('', ''),
        execute(''),
        syncMessage(),
      ]),
    );
    const first = await raw.until((m) => m.type === 0x5a);
    expect(first.map((m) => String.fromCharCode(m.type)).join('')).toBe('123EZ');
    expect(errorFields(first[3]!)).toMatchObject({ C: '42501' });
    const second = await raw.until((m) => m.type === 0x5a);
    expect(second.map((m) => String.fromCharCode(m.type)).join('')).toBe('12DCZ');
    raw.end();
    const admin = await directClient(database);
    const { rows } = await admin.query('SELECT count(*)::int AS n FROM log');
    await admin.end();
    // The batch ran as one implicit transaction that the refusal aborted.
    expect(rows[0].n).toBe(0);
  });

  it('refuses Execute of a portal the gateway never saw prepared', async () => {
    const raw = await RawClient.connect(gw.gateway.address.port);
    await raw.login(database, 'test:pipeliner');
    raw.write(Buffer.concat([execute('sneaky'), syncMessage()]));
    const reply = await raw.until((m) => m.type === 0x5a);
    expect(errorFields(reply.find((m) => m.type === 0x45)!).M).toMatch(/not prepared through/);
    raw.end();
  });
});

describe('upstream failures', () => {
  it('gives the client 08006 when the upstream connection drops mid-session', async () => {
    const server = testServer();
    const links = new Set<net.Socket>();
    // A TCP relay between gateway and PostgreSQL that the test can cut.
    const relay = net.createServer((client) => {
      const upstream = net.connect(server.port, server.host);
      links.add(client).add(upstream);
      client.pipe(upstream).pipe(client);
      client.on('error', () => undefined);
      upstream.on('error', () => undefined);
    });
    await new Promise<void>((r) => relay.listen(0, '127.0.0.1', () => r()));
    const port = (relay.address() as net.AddressInfo).port;
    const viaRelay = await startTestGateway({ upstream: { ...gw.options.upstream, port } });
    try {
      const client = await viaRelay.connect(database);
      const failed = new Promise<Error>((resolve) => client.on('error', resolve));
      expect((await client.query('SELECT 1 AS one')).rows[0].one).toBe(1);
      for (const socket of links) socket.destroy();
      const err = await failed;
      expect((err as pg.DatabaseError).code).toBe('08006');
    } finally {
      await viaRelay.close();
      relay.close();
    }
  });
});
