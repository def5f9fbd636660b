import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { message, parseMessage, queryMessage, syncMessage } from '../../src/wire/index.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { functionDecider } from '../support/gateway-fixtures.js';
import { RawClient, errorFields } from '../support/gateway-raw.js';
import { createDatabase, directClient, testServer } from '../support/pg.js';

let gw: TestGateway;
let database: string;
const decider = functionDecider((input) =>
  input.statement.text.includes('forbidden') ? { allow: false, reasons: ['forbidden'] } : {},
);

beforeAll(async () => {
  database = await createDatabase('gw_pipe');
  const admin = await directClient(database);
  await admin.query('CREATE TABLE log (v int)');
  await admin.end();
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
    expect(first.map((m) => String.fromCharCode(m.type)).join('')).toBe('12CEZ');
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

  it('sees a pipelined BEGIN before upstream reports it (in_transaction)', async () => {
    const raw = await RawClient.connect(gw.gateway.address.port);
    await raw.login(database, 'test:pipeliner');
    raw.write(
      Buffer.concat([
        parseMessage('', 'BEGIN'),
        bind('', ''),
        execute(''),
        parseMessage('', 'SELECT 11 /* inside */'),
        bind('', ''),
        execute(''),
        parseMessage('', 'COMMIT'),
        bind('', ''),
        execute(''),
        parseMessage('', 'SELECT 12 /* after */'),
        bind('', ''),
        execute(''),
        syncMessage(),
      ]),
    );
    await raw.until((m) => m.type === 0x5a);
    raw.end();
    const seen = (marker: string) =>
      decider.inputs.find((i) => i.statement.text.includes(marker))?.statement.in_transaction;
    expect(seen('inside')).toBe(true);
    expect(seen('after')).toBe(false);
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

describe('errors while the client is still sending', () => {
  it('stays in step when an error arrives before the rest of the batch', async () => {
    const raw = await RawClient.connect(gw.gateway.address.port);
    await raw.login(database, 'test:slow-pipeliner');
    // The first Execute fails upstream; its error arrives before the client sends more.
    raw.write(Buffer.concat([parseMessage('', 'SELECT 1/0'), bind('', ''), execute('')]));
    const error = await raw.until((m) => m.type === 0x45);
    expect(errorFields(error.at(-1)!).C).toBe('22012');
    raw.write(
      Buffer.concat([
        parseMessage('', 'SELECT 2'),
        bind('', ''),
        execute(''),
        syncMessage(),
        parseMessage('', 'SELECT 3'),
        bind('', ''),
        execute(''),
        syncMessage(),
      ]),
    );
    const first = await raw.until((m) => m.type === 0x5a);
    expect(first.map((m) => String.fromCharCode(m.type)).join('')).toBe('Z');
    const second = await raw.until((m) => m.type === 0x5a);
    expect(second.map((m) => String.fromCharCode(m.type)).join('')).toBe('12DCZ');
    expect(second[2]!.body.toString('utf8', 6)).toBe('3');
    raw.end();
  });

  it('stays in step when a Query arrives while upstream skips to Sync', async () => {
    const raw = await RawClient.connect(gw.gateway.address.port);
    await raw.login(database, 'test:mixed');
    raw.write(Buffer.concat([parseMessage('', 'SELECT 1/0'), bind('', ''), execute('')]));
    await raw.until((m) => m.type === 0x45);
    // PostgreSQL ignores this Query: it is still skipping to Sync.
    raw.write(Buffer.concat([queryMessage('SELECT 5'), syncMessage(), queryMessage('SELECT 6')]));
    const sync = await raw.until((m) => m.type === 0x5a);
    expect(sync.map((m) => String.fromCharCode(m.type)).join('')).toBe('Z');
    const six = await raw.until((m) => m.type === 0x5a);
    expect(six.map((m) => String.fromCharCode(m.type)).join('')).toBe('TDCZ');
    expect(six[1]!.body.toString('utf8', 6)).toBe('6');
    raw.end();
  });
});
