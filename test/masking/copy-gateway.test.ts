// COPY ... TO STDOUT through the gateway with a real PostgreSQL, the real analyzer and masker:
// masked columns are masked in every COPY format and option PostgreSQL accepts, every other byte
// is what PostgreSQL wrote, and the audit counts the rows and bytes as sent.
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import postgres from 'postgres';
import pg from 'pg';
import { createMaskerFactory } from '../../src/masking/index.js';
import { createAnalyzer } from '../../src/sql/index.js';
import {
  Backend,
  message,
  parseMessage,
  queryMessage,
  syncMessage,
  type WireMessage,
} from '../../src/wire/index.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { functionDecider } from '../support/gateway-fixtures.js';
import { RawClient } from '../support/gateway-raw.js';
import { createDatabase, directClient, testServer } from '../support/pg.js';

const PANS = ['4111111111111111', '5500000000000004', '340000000000009', '6011000000000004'];
// Notes with everything the COPY formats must escape or quote.
const NOTES = [
  'plain',
  'tab\there, newline\nthere, CR\rtoo',
  'quote " comma , semicolon ; pipe |',
  'backslash \\ and \\N and \\.',
  'unicode é € 𝄞',
  '',
  null,
];

let gw: TestGateway;
let database: string;
let limited: TestGateway;
let direct: ReturnType<typeof postgres>;
let viaGateway: ReturnType<typeof postgres>;

const decider = functionDecider((input) => {
  const { statement } = input;
  if (!statement.tables.some((t) => t.name === 'cards')) return {};
  return { mask: { 'public.cards.pan': 'pan_last4' }, reasons: ['PAN masked'] };
});

beforeAll(async () => {
  database = await createDatabase('copy_mask');
  const admin = await directClient(database);
  await admin.query('CREATE TABLE cards (id int primary key, pan text, note text)');
  await admin.query('CREATE TABLE notes (id int, note text)');
  for (let i = 0; i < 40; i++) {
    const note = NOTES[i % NOTES.length] ?? null;
    await admin.query('INSERT INTO cards VALUES ($1, $2, $3)', [i, PANS[i % PANS.length], note]);
    await admin.query('INSERT INTO notes VALUES ($1, $2)', [i, note]);
  }
  await admin.end();
  const server = testServer();
  const analyzer = createAnalyzer({ catalogConnection: (db) => ({ ...server, database: db }) });
  gw = await startTestGateway({ analyzer, masker: createMaskerFactory(), decider: () => decider });
  const rowLimit = functionDecider(() => ({ rowLimit: 5 }));
  limited = await startTestGateway({
    analyzer,
    masker: createMaskerFactory(),
    decider: () => rowLimit,
  });
  direct = postgres({ ...server, username: server.user, database, max: 1, onnotice: () => {} });
  viaGateway = postgres({
    host: '127.0.0.1',
    port: gw.gateway.address.port,
    username: 'ci',
    password: 'test:etl',
    database,
    max: 1,
    onnotice: () => {},
  });
});

afterAll(async () => {
  await viaGateway?.end({ timeout: 5 });
  await direct?.end({ timeout: 5 });
  await gw?.close();
  await limited?.close();
});

/** Everything a COPY ... TO STDOUT wrote, through the `postgres` client's COPY stream. */
async function copyOut(sql: ReturnType<typeof postgres>, statement: string): Promise<string> {
  const stream = await sql.unsafe(statement).readable();
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

// What pan_last4 makes of the test numbers, computed by PostgreSQL, so the expected output is
// PostgreSQL's own formatting of the masked values.
const MASKED_PAN = `regexp_replace(pan, '\\d(?=\\d{4})', '*', 'g') AS pan`;

describe('COPY TO STDOUT with masked columns', () => {
  const options = [
    '',
    'WITH (FORMAT text)',
    'WITH (FORMAT text, HEADER)',
    "WITH (FORMAT text, DELIMITER '|')",
    'WITH (FORMAT csv)',
    'WITH (FORMAT csv, HEADER true)',
    "WITH (FORMAT csv, HEADER on, DELIMITER ';')",
    'WITH (FORMAT csv, HEADER 1, FORCE_QUOTE *)',
    'WITH (FORMAT csv, HEADER 0, FORCE_QUOTE (pan))',
    'WITH (FORMAT csv, HEADER off)',
    "WITH (FORMAT csv, QUOTE '''', ESCAPE '\\')",
    "WITH (FORMAT csv, DELIMITER E'\\t', QUOTE '|', ESCAPE '~')",
    'CSV HEADER',
    "CSV DELIMITER '#' FORCE QUOTE note",
  ];
  for (const option of options) {
    it(`masks pan and keeps every other byte: ${option || 'no options'}`, async () => {
      const got = await copyOut(
        viaGateway,
        `COPY (SELECT id, pan, note FROM cards ORDER BY id) TO STDOUT ${option}`,
      );
      const expected = await copyOut(
        direct,
        `COPY (SELECT id, ${MASKED_PAN}, note FROM cards ORDER BY id) TO STDOUT ${option}`,
      );
      expect(got).toBe(expected);
      for (const pan of PANS) expect(got).not.toContain(pan);
    });
  }

  it('refuses a NULL marker of the client’s choosing when columns are masked', async () => {
    // The marker could equal a value ('4111111111111111'): such a value would pass as a NULL,
    // unmasked, and answer "equal to the guess".
    for (const option of ["(NULL '4111111111111111')", "(FORMAT csv, NULL 'NULL')"]) {
      const err = await copyOut(viaGateway, `COPY (SELECT id, pan FROM cards) TO STDOUT ${option}`)
        .then(() => null)
        .catch((e: unknown) => e as Error);
      expect(err?.message, option).toMatch(/NULL marker of its own cannot be masked/);
    }
    // Without masks in the decision the option is PostgreSQL's to apply.
    const notes = "COPY notes TO STDOUT (NULL 'nil')";
    expect(await copyOut(viaGateway, notes)).toBe(await copyOut(direct, notes));
  });

  it('masks COPY of a table, whole and with a column list', async () => {
    const whole = await copyOut(viaGateway, 'COPY cards TO STDOUT');
    expect(whole).toBe(
      await copyOut(direct, `COPY (SELECT id, ${MASKED_PAN}, note FROM cards) TO STDOUT`),
    );
    const listed = await copyOut(viaGateway, 'COPY cards (pan, id) TO STDOUT (FORMAT csv)');
    expect(listed).toBe(
      await copyOut(direct, `COPY (SELECT ${MASKED_PAN}, id FROM cards) TO STDOUT (FORMAT csv)`),
    );
  });

  it('redacts derived values and leaves other tables as they are', async () => {
    const derived = await copyOut(
      viaGateway,
      "COPY (SELECT id, 'x' || pan AS p FROM cards WHERE id < 3 ORDER BY id) TO STDOUT",
    );
    expect(derived).toBe('0\t[redacted]\n1\t[redacted]\n2\t[redacted]\n');
    const notes = await copyOut(viaGateway, 'COPY notes TO STDOUT (FORMAT csv, HEADER)');
    expect(notes).toBe(await copyOut(direct, 'COPY notes TO STDOUT (FORMAT csv, HEADER)'));
  });

  it('refuses binary COPY of a masked identity with a reason, and allows it otherwise', async () => {
    const client = await gw.connect(database);
    try {
      const err = await client
        .query('COPY cards TO STDOUT (FORMAT binary)')
        .catch((e: unknown) => e as pg.DatabaseError);
      expect((err as pg.DatabaseError).code).toBe('42501');
      expect((err as Error).message).toMatch(/binary format cannot be masked; use FORMAT text/);
    } finally {
      await client.end();
    }
    const binary = await viaGateway.unsafe('COPY notes TO STDOUT (FORMAT binary)').readable();
    const chunks: Buffer[] = [];
    for await (const chunk of binary) chunks.push(chunk as Buffer);
    const bytes = Buffer.concat(chunks);
    expect(bytes.subarray(0, 11).toString('latin1')).toBe('PGCOPY\n\xff\r\n\0');
    expect(bytes.subarray(-2)).toEqual(Buffer.from([0xff, 0xff]));
  });

  it('refuses masking COPY output in an encoding that hides ASCII bytes in characters', async () => {
    for (const [setup, option] of [
      ["SET client_encoding TO 'SJIS'", ''],
      ['SELECT 1', "(ENCODING 'sjis')"],
    ] as const) {
      const client = await gw.connect(database);
      client.on('error', () => undefined);
      try {
        await client.query(setup);
        const err = await client
          .query(`COPY (SELECT id, pan FROM cards) TO STDOUT ${option}`)
          .catch((e: unknown) => e as pg.DatabaseError);
        expect((err as pg.DatabaseError).code, option).toBe('42501');
        expect((err as Error).message).toMatch(/encoding (SJIS|sjis) cannot be masked/);
      } finally {
        await client.end().catch(() => undefined);
      }
    }
  });

  it('refuses a client_encoding change followed by more statements in one query string', async () => {
    // PostgreSQL reports the new encoding only before ReadyForQuery: the COPY after it would be
    // read in the old one, and a field could shift into an unmasked column.
    const client = await gw.connect(database);
    try {
      const err = await client
        .query("SET client_encoding = 'SJIS'; COPY (SELECT id, pan FROM cards) TO STDOUT")
        .catch((e: unknown) => e as pg.DatabaseError);
      expect((err as pg.DatabaseError).code).toBe('0A000');
      expect((err as Error).message).toMatch(/client_encoding must be the last statement/);
      const names = await client
        .query("SET NAMES 'SJIS'; SELECT 1")
        .catch((e: unknown) => e as pg.DatabaseError);
      expect((names as pg.DatabaseError).code).toBe('0A000');
    } finally {
      await client.end().catch(() => undefined);
    }
  });

  it('masks COPY run through the extended protocol', async () => {
    const raw = await RawClient.connect(gw.gateway.address.port);
    try {
      await raw.login(database, 'test:etl');
      const bind = message(0x42, Buffer.from([0, 0, 0, 0, 0, 0, 0, 0]));
      const execute = message(0x45, Buffer.from([0, 0, 0, 0, 0]));
      raw.write(
        Buffer.concat([
          parseMessage('', 'COPY (SELECT id, pan FROM cards WHERE id < 2 ORDER BY id) TO STDOUT'),
          bind,
          execute,
          syncMessage(),
        ]),
      );
      const replies = await raw.until((m) => m.type === Backend.ReadyForQuery);
      expect(replies.find((m) => m.type === Backend.ErrorResponse)).toBeUndefined();
      expect(copyText(replies)).toBe('0\t************1111\n1\t************0004\n');
    } finally {
      raw.end();
    }
  });

  it('records rows and bytes as sent, and the SHA-256 of the CopyData sent', async () => {
    const raw = await RawClient.connect(gw.gateway.address.port);
    let sent: Buffer[];
    try {
      await raw.login(database, 'test:auditor');
      raw.write(queryMessage('COPY (SELECT id, pan FROM cards WHERE id < 6) TO STDOUT CSV HEADER'));
      const replies = await raw.until((m) => m.type === Backend.ReadyForQuery);
      sent = replies.filter((m) => m.type === Backend.CopyData).map((m) => m.raw);
    } finally {
      raw.end();
    }
    await new Promise((r) => setTimeout(r, 50));
    const response = gw.audit
      .of('response')
      .find((r) => r.bytes === sent.reduce((n, m) => n + m.length, 0) && r.rows === 6);
    expect(response).toBeDefined();
    expect(response!.sha256).toBe(createHash('sha256').update(Buffer.concat(sent)).digest('hex'));
    expect(response!.masked).toEqual({
      columns: [{ column: 'public.cards.pan', method: 'pan_last4', values: 6 }],
      backstop: 0,
    });
  });

  it('ends COPY at the decision row limit with 54000 and keeps the session', async () => {
    const client = new pg.Client(limited.config(database));
    await client.connect();
    try {
      const err = await client.query('COPY notes TO STDOUT').catch((e: unknown) => e);
      expect((err as pg.DatabaseError).code).toBe('54000');
      const { rows } = await client.query('SELECT 1 AS one');
      expect(rows).toEqual([{ one: 1 }]);
    } finally {
      await client.end();
    }
  });

  it('leaves COPY FROM STDIN of a masked table unmasked: it is input (runs last)', async () => {
    const writable = await viaGateway`COPY cards (id, pan) FROM STDIN`.writable();
    await new Promise<void>((resolve, reject) => {
      writable.on('error', reject);
      writable.on('finish', resolve);
      writable.end(`1000\t${PANS[0]}\n`);
    });
    const admin = await directClient(database);
    try {
      const { rows } = await admin.query('SELECT pan FROM cards WHERE id = 1000');
      expect(rows).toEqual([{ pan: PANS[0] }]);
    } finally {
      await admin.end();
    }
  });
});

/** The data of the CopyData messages among `replies`, as text. */
function copyText(replies: WireMessage[]): string {
  return Buffer.concat(
    replies.filter((m) => m.type === Backend.CopyData).map((m) => m.body),
  ).toString('utf8');
}
