// The gateway with the project's real analyzer, masker and audit trail (policy stays a function).
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { openAuditTrail, type AuditTrail } from '../../src/audit/index.js';
import { createMaskerFactory } from '../../src/masking/index.js';
import { createAnalyzer } from '../../src/sql/index.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { functionDecider } from '../support/gateway-fixtures.js';
import { createDatabase, directClient, testServer } from '../support/pg.js';

let gw: TestGateway;
let database: string;
let trail: AuditTrail;
let dir: string;

const decider = functionDecider((input) => {
  const { statement } = input;
  if (statement.copy?.target === 'program') return { allow: false, reasons: ['no COPY PROGRAM'] };
  if (statement.kind === 'delete' && !statement.where) {
    return { allow: false, reasons: ['DELETE needs a WHERE clause'] };
  }
  if (statement.columns.read.includes('public.cards.pan')) {
    return { mask: { 'public.cards.pan': 'pan_last4' }, reasons: ['PAN masked'] };
  }
  return {};
});

beforeAll(async () => {
  database = await createDatabase('gw_real');
  const admin = await directClient(database);
  await admin.query('CREATE TABLE cards (id int primary key, holder text, pan text)');
  await admin.query(
    "INSERT INTO cards VALUES (1, 'ann', '4111111111111111'), (2, 'bob', '5500000000000004')",
  );
  await admin.query('CREATE UNIQUE INDEX cards_pan ON cards (pan)');
  await admin.end();
  dir = await mkdtemp(path.join(os.tmpdir(), 'pgwarden-gw-audit-'));
  trail = await openAuditTrail({ dir, durability: 'batched', instance: 'gw-test' });
  const server = testServer();
  gw = await startTestGateway({
    analyzer: createAnalyzer({ catalogConnection: (db) => ({ ...server, database: db }) }),
    masker: createMaskerFactory(),
    audit: trail,
    decider: () => decider,
  });
});

afterAll(async () => {
  await gw?.close();
  await trail?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('gateway with the real analyzer, masker and audit trail', () => {
  it('masks PAN through SELECT * in simple and extended protocol', async () => {
    const client = await gw.connect(database);
    try {
      const simple = await client.query('SELECT * FROM cards ORDER BY id');
      expect(simple.rows.map((r) => r.pan)).toEqual([
        expect.stringMatching(/1111$/),
        expect.stringMatching(/0004$/),
      ]);
      expect(simple.rows.some((r) => r.pan === '4111111111111111')).toBe(false);
      const extended = await client.query(
        'SELECT holder, pan AS card FROM cards WHERE id = $1',
        [1],
      );
      expect(extended.rows[0].holder).toBe('ann');
      expect(extended.rows[0].card).not.toBe('4111111111111111');
      expect(extended.rows[0].card).toMatch(/1111$/);
    } finally {
      await client.end();
    }
  });

  it('masks rows fetched from a cursor or run by SQL EXECUTE of a PREPARE', async () => {
    const client = await gw.connect(database);
    try {
      await client.query('BEGIN');
      await client.query('DECLARE "Cur" CURSOR FOR SELECT id, pan FROM cards ORDER BY id');
      const fetched = await client.query('FETCH ALL FROM "Cur"');
      await client.query('COMMIT');
      expect(fetched.rows).toHaveLength(2);
      expect(fetched.rows.map((r) => r.pan)).not.toContain('4111111111111111');
      expect(fetched.rows[0].pan).toMatch(/1111$/);
      await client.query('PREPARE by_id (int) AS SELECT pan FROM cards WHERE id = $1');
      const executed = await client.query('EXECUTE by_id(2)');
      expect(executed.rows[0].pan).not.toBe('5500000000000004');
      expect(executed.rows[0].pan).toMatch(/0004$/);
    } finally {
      await client.end();
    }
  });

  it('masks card numbers that PostgreSQL quotes in error details', async () => {
    const client = await gw.connect(database);
    try {
      const err = await client
        .query("INSERT INTO cards VALUES (3, 'eve', '4111111111111111')")
        .catch((e: unknown) => e);
      expect((err as pg.DatabaseError).code).toBe('23505');
      expect((err as pg.DatabaseError).detail).toMatch(/Key \(pan\)=/);
      expect((err as pg.DatabaseError).detail).not.toContain('4111111111111111');
    } finally {
      await client.end();
    }
  });

  it('answers empty and comment-only queries like PostgreSQL', async () => {
    const client = await gw.connect(database);
    try {
      for (const text of ['', ';', '-- nothing here']) {
        const result = await client.query(text);
        expect(result.rows, JSON.stringify(text)).toEqual([]);
      }
      const extended = await client.query({ text: '-- nothing', values: [] });
      expect(extended.rows).toEqual([]);
    } finally {
      await client.end();
    }
  });

  it('refuses by facts: COPY PROGRAM, DELETE without WHERE, masked binary COPY', async () => {
    const client = await gw.connect(database);
    try {
      for (const sql of [
        "COPY cards TO PROGRAM 'cat > /dev/null'",
        'DELETE FROM cards',
        'COPY cards TO STDOUT (FORMAT binary)',
      ]) {
        const err = await client.query(sql).catch((e: unknown) => e);
        expect((err as pg.DatabaseError).code, sql).toBe('42501');
      }
      const parse = await client.query('SELEC 1').catch((e: unknown) => e);
      expect((parse as pg.DatabaseError).code).toBe('42601');
      const { rows } = await client.query('SELECT count(*)::int AS n FROM cards');
      expect(rows[0].n).toBe(2);
    } finally {
      await client.end();
    }
  });

  it('writes decisions to the audit trail without unmasked values', async () => {
    const client = await gw.connect(database);
    await client.query('SELECT pan FROM cards WHERE id = 2');
    await client.end();
    await new Promise((r) => setTimeout(r, 100));
    const files = await readdir(dir, { recursive: true });
    let text = '';
    for (const file of files) {
      if (String(file).endsWith('.jsonl'))
        text += await readFile(path.join(dir, String(file)), 'utf8');
    }
    expect(text).toContain('"decision"');
    expect(text).toContain('SELECT pan FROM cards WHERE id = 2');
    expect(text).not.toContain('5500000000000004');
  });
});
