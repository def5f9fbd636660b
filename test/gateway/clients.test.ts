import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import postgres from 'postgres';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { createDatabase, directClient } from '../support/pg.js';
import { RawClient } from '../support/gateway-raw.js';
import { cancelRequest, queryMessage } from '../../src/wire/index.js';

let gw: TestGateway;
let database: string;

beforeAll(async () => {
  database = await createDatabase('gw_clients');
  const admin = await directClient(database);
  await admin.query('CREATE TABLE big (id int, payload text)');
  await admin.end();
  gw = await startTestGateway();
});

afterAll(async () => {
  await gw?.close();
});

function sql() {
  return postgres({
    host: '127.0.0.1',
    port: gw.gateway.address.port,
    user: 'ci',
    pass: 'test:postgres-js:etl',
    database,
    max: 1,
    onnotice: () => undefined,
  });
}

describe('real clients through the gateway', () => {
  it('postgres.js: prepared statements and pipelined queries', async () => {
    const db = sql();
    try {
      const results = await Promise.all(
        Array.from({ length: 100 }, (_, i) => db`SELECT ${i}::int AS i, ${'v' + i}::text AS v`),
      );
      expect(results.map((r) => r[0]!.i)).toEqual(Array.from({ length: 100 }, (_, i) => i));
      const tx = await db.begin(async (t) => {
        await t`CREATE TEMP TABLE t (v int)`;
        await t`INSERT INTO t VALUES (${1}), (${2})`;
        return t`SELECT sum(v)::int AS s FROM t`;
      });
      expect(tx[0]!.s).toBe(3);
      const unsafe = await db.unsafe('SELECT 1 AS a; SELECT 2 AS b');
      expect(unsafe).toHaveLength(2);
    } finally {
      await db.end();
    }
  });

  it('COPY FROM STDIN and COPY TO STDOUT with a large payload', async () => {
    const client = await gw.connect(database);
    try {
      const rows = 50_000;
      const line = (i: number) => `${i}\t${'x'.repeat(100)}${i}\n`;
      // No COPY stream helper for `pg` is installed: drive COPY FROM STDIN on the wire.
      await copyInRaw(rows, line);
      const { rows: count } = await client.query('SELECT count(*)::int AS n FROM big');
      expect(count[0].n).toBe(rows);
      const db = sql();
      try {
        let bytes = 0;
        let lines = 0;
        const stream = await db`COPY big TO STDOUT`.readable();
        await pipeline(
          stream,
          new Writable({
            write(chunk: Buffer, _enc, done) {
              bytes += chunk.length;
              lines += chunk.toString().split('\n').length - 1;
              done();
            },
          }),
        );
        expect(lines).toBe(rows);
        expect(bytes).toBeGreaterThan(rows * 100);
      } finally {
        await db.end();
      }
    } finally {
      await client.end();
    }
  });

  it('cancels pg_sleep through the gateway, and ignores a wrong key', async () => {
    const raw = await RawClient.connect(gw.gateway.address.port);
    const greeting = await raw.login(database, 'test:canceller');
    const key = greeting.find((m) => m.type === 0x4b)!;
    const pid = key.body.readInt32BE(0);
    const secret = key.body.subarray(4);
    raw.write(queryMessage('SELECT pg_sleep(0.5)'));
    await new Promise((r) => setTimeout(r, 100));
    const wrong = Buffer.from(secret);
    wrong[0] = wrong[0]! ^ 0xff;
    await sendCancel(pid, wrong);
    const survived = await raw.until((m) => m.type === 0x5a);
    expect(survived.some((m) => m.type === 0x45)).toBe(false);

    const started = Date.now();
    raw.write(queryMessage('SELECT pg_sleep(30)'));
    await new Promise((r) => setTimeout(r, 200));
    await sendCancel(pid, secret);
    const reply = await raw.until((m) => m.type === 0x5a);
    const error = reply.find((m) => m.type === 0x45);
    expect(error?.body.toString()).toContain('57014');
    expect(Date.now() - started).toBeLessThan(10_000);
    raw.end();
  });

  it('cancels the upstream query of a client that disconnects mid-query', async () => {
    const raw = await RawClient.connect(gw.gateway.address.port);
    await raw.login(database, 'test:leaver');
    raw.write(queryMessage('SELECT pg_sleep(30) /* leaver */'));
    await new Promise((r) => setTimeout(r, 200));
    raw.end();
    const admin = await directClient(database);
    try {
      let running = 1;
      for (let i = 0; i < 50 && running > 0; i++) {
        await new Promise((r) => setTimeout(r, 100));
        const { rows } = await admin.query(
          'SELECT count(*)::int AS n FROM pg_stat_activity ' +
            "WHERE query LIKE '%leaver */' AND state = 'active' AND pid <> pg_backend_pid()",
        );
        running = rows[0].n;
      }
      expect(running).toBe(0);
    } finally {
      await admin.end();
    }
  });

  it('serves 200 concurrent connections', async () => {
    const clients = await Promise.all(
      Array.from({ length: 200 }, async (_, i) => {
        const client = new pg.Client(gw.config(database, `test:worker-${i}:etl`));
        await client.connect();
        return client;
      }),
    );
    try {
      expect(gw.gateway.sessions()).toBeGreaterThanOrEqual(200);
      const results = await Promise.all(
        clients.map((c, i) => c.query('SELECT $1::int AS i, pg_backend_pid() AS pid', [i])),
      );
      expect(results.map((r) => r.rows[0].i)).toEqual(clients.map((_, i) => i));
      expect(new Set(results.map((r) => r.rows[0].pid)).size).toBe(200);
    } finally {
      await Promise.all(clients.map((c) => c.end()));
    }
  });
});

async function sendCancel(pid: number, secret: Buffer): Promise<void> {
  const raw = await RawClient.connect(gw.gateway.address.port);
  raw.write(cancelRequest(pid, secret));
  await raw.closedByServer();
}

async function copyInRaw(rows: number, line: (i: number) => string): Promise<void> {
  const raw = await RawClient.connect(gw.gateway.address.port);
  await raw.login(database, 'test:copier');
  raw.write(queryMessage('COPY big FROM STDIN'));
  await raw.until((m) => m.type === 0x47);
  const chunk = (text: string) => {
    const body = Buffer.from(text);
    const out = Buffer.alloc(5 + body.length);
    out[0] = 0x64;
    out.writeInt32BE(4 + body.length, 1);
    body.copy(out, 5);
    return out;
  };
  let batch = '';
  for (let i = 0; i < rows; i++) {
    batch += line(i);
    if (batch.length > 60_000) {
      raw.write(chunk(batch));
      batch = '';
    }
  }
  if (batch) raw.write(chunk(batch));
  raw.write(Buffer.from([0x63, 0, 0, 0, 4]));
  const done = await raw.until((m) => m.type === 0x5a);
  expect(done.some((m) => m.type === 0x45)).toBe(false);
  raw.end();
}
