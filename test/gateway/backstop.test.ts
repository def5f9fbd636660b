// The card-number backstop on everything a client receives, whether or not the decision masks.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMaskerFactory } from '../../src/masking/index.js';
import { Backend, queryMessage } from '../../src/wire/index.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { RawClient } from '../support/gateway-raw.js';
import { createDatabase, directClient } from '../support/pg.js';

const PAN = '4111111111111111';
let gw: TestGateway;
let database: string;

beforeAll(async () => {
  database = await createDatabase('gw_backstop');
  const admin = await directClient(database);
  await admin.query('CREATE TABLE t (id int, note text)');
  await admin.query(`INSERT INTO t VALUES (1, 'card ${PAN} on file')`);
  await admin.end();
  gw = await startTestGateway({ masker: createMaskerFactory() });
});

afterAll(async () => {
  await gw?.close();
});

/** Everything the gateway sent for `sql` until ReadyForQuery, as one string. */
async function rawReply(sql: string): Promise<string> {
  const raw = await RawClient.connect(gw.gateway.address.port);
  try {
    await raw.login(database, 'test:ci-job:etl');
    raw.write(queryMessage(sql));
    const replies = await raw.until((m) => m.type === Backend.ReadyForQuery);
    return Buffer.concat(replies.map((m) => m.raw)).toString('latin1');
  } finally {
    raw.end();
  }
}

describe('card-number backstop', () => {
  it('masks rows of a decision without masks, in simple and extended protocol', async () => {
    expect(await rawReply('SELECT note FROM t')).not.toContain(PAN);
    const client = await gw.connect(database);
    const { rows } = await client.query('SELECT note, $1::text AS echo FROM t', [PAN]);
    expect(JSON.stringify(rows)).not.toContain(PAN);
    expect(rows[0].note).toMatch(/^card .+ on file$/);
    await client.end();
  });

  it('masks COPY TO STDOUT rows', async () => {
    const reply = await rawReply('COPY t TO STDOUT');
    expect(reply).toContain('on file');
    expect(reply).not.toContain(PAN);
  });

  it('masks errors, notices and notification payloads', async () => {
    expect(await rawReply(`SELECT 1/0 WHERE '${PAN}' <> ''`)).not.toContain(PAN);
    expect(await rawReply(`DO $$BEGIN RAISE NOTICE '${PAN}'; END$$`)).not.toContain(PAN);
    expect(
      await rawReply(`DO $$BEGIN RAISE EXCEPTION 'x' USING HINT = '${PAN}'; END$$`),
    ).not.toContain(PAN);
    const reply = await rawReply(`LISTEN ch; SELECT pg_notify('ch', note) FROM t`);
    expect(reply).toContain('on file');
    expect(reply).not.toContain(PAN);
  });
});
