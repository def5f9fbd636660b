import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  auditTableDdl,
  loadOrCreateSigningKey,
  openAuditTrail,
  openPostgresAuditStore,
  queryAudit,
  verifyAudit,
} from '../../src/audit/index.js';
import { main } from '../../src/cli/index.js';
import { createDatabase, directClient, testServer } from '../support/pg.js';

let dir: string;
let database: string;
let admin: pg.Client;
let writerDsn: string;
let adminDsn: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pgw-audit-pg-'));
  database = await createDatabase('audit_sink');
  admin = await directClient(database);
  // The documented setup: the table belongs to an administrator; the gateway's role may only
  // insert and read.
  const role = `pgw_audit_${process.pid}`;
  await admin.query(auditTableDdl());
  await admin.query(`DROP ROLE IF EXISTS ${role}`);
  await admin.query(`CREATE ROLE ${role} LOGIN PASSWORD 'writer-secret'`);
  await admin.query(`GRANT USAGE ON SCHEMA public TO ${role}`);
  await admin.query(`GRANT INSERT, SELECT ON pgwarden_audit TO ${role}`);
  const server = testServer();
  writerDsn = `postgres://${role}:writer-secret@${server.host}:${server.port}/${database}`;
  adminDsn =
    `postgres://${server.user}:${encodeURIComponent(server.password)}@` +
    `${server.host}:${server.port}/${database}`;
});

afterAll(async () => {
  await admin?.end();
  await rm(dir, { recursive: true, force: true });
});

async function writeChain(instance: string, records: number): Promise<void> {
  const store = await openPostgresAuditStore({ dsn: writerDsn });
  const trail = await openAuditTrail({
    dir,
    durability: 'strict',
    instance,
    store,
    checkpointEvery: 4,
    signingKey: await loadOrCreateSigningKey(join(dir, 'key.jwk')),
  });
  const pan = '4111111111111111';
  for (let i = 0; i < records; i++) {
    await trail.append('decision', { statement_id: `s-${i}`, text: `SELECT ${pan}`, n: i });
  }
  await trail.close();
  await store.close();
}

describe('PostgreSQL audit sink', () => {
  it('stores chains of several instances that verify, and continues them on restart', async () => {
    await writeChain('gw-a', 10);
    await writeChain('gw-b', 3);
    await writeChain('gw-a', 2);
    const jwks = { keys: [(await loadOrCreateSigningKey(join(dir, 'key.jwk'))).publicJwk] };
    const report = await verifyAudit(writerDsn, { jwks });
    expect(report.faults).toEqual([]);
    expect(report.ok).toBe(true);
    expect(report.chains.map((c) => c.instance).sort()).toEqual(['gw-a', 'gw-b']);
    const a = report.chains.find((c) => c.instance === 'gw-a')!;
    expect(a.files).toBe(2);
    expect(report.signaturesVerified).toBeGreaterThan(4);
    const decisions = await queryAudit(writerDsn, { kind: 'decision' });
    expect(decisions).toHaveLength(15);
    // The card number never reaches the table.
    const { rows } = await admin.query(`SELECT count(*)::int AS n FROM pgwarden_audit
      WHERE line LIKE '%4111111111111111%'`);
    expect(rows[0].n).toBe(0);
  });

  it('verifies from the command line with the DSN in the environment', async () => {
    const keyFile = join(dir, 'jwks.json');
    let out = '';
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
      out += String(chunk);
      return true;
    });
    process.env.PGW_TEST_AUDIT_DSN = writerDsn;
    try {
      const args = ['node', 'pgwarden', 'audit', 'verify', '--dsn-env', 'PGW_TEST_AUDIT_DSN'];
      const code = await main([...args, '--jwks', keyFile, '--format', 'json']);
      expect(code).toBe(0);
    } finally {
      spy.mockRestore();
      delete process.env.PGW_TEST_AUDIT_DSN;
      process.exitCode = undefined;
    }
    const report = JSON.parse(out) as { ok: boolean; records: number };
    expect(report.ok).toBe(true);
    expect(report.records).toBeGreaterThan(15);
    expect(out).not.toContain('writer-secret');
  });

  it('does not let the gateway role change what it wrote', async () => {
    const store = await openPostgresAuditStore({ dsn: writerDsn });
    await store.readHead('gw-a');
    const client = await (
      store.destination as unknown as { connection(): Promise<pg.Client> }
    ).connection();
    await expect(client.query(`UPDATE pgwarden_audit SET line = line`)).rejects.toMatchObject({
      code: '42501',
    });
    await expect(client.query(`DELETE FROM pgwarden_audit`)).rejects.toMatchObject({
      code: '42501',
    });
    await store.close();
  });

  it('refuses appends when the database connection is lost, then recovers', async () => {
    const store = await openPostgresAuditStore({ dsn: writerDsn });
    const trail = await openAuditTrail({
      dir,
      durability: 'strict',
      instance: 'gw-c',
      store,
      retryMs: 50,
    });
    await trail.append('decision', { n: 1 });
    // Regression (flaky): with only the backend terminated, the client could reconnect before
    // the next insert, which then succeeded. The role may not log in until the outage ends.
    const role = writerDsn.split('//')[1]!.split(':')[0]!;
    await admin.query(`ALTER ROLE ${role} NOLOGIN`);
    await admin.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1`, [
      role,
    ]);
    try {
      await expect(trail.append('decision', { n: 2 })).rejects.toMatchObject({
        code: 'ERR_AUDIT_WRITE',
      });
      expect(trail.failed).toBe(true);
    } finally {
      await admin.query(`ALTER ROLE ${role} LOGIN`);
    }
    for (let i = 0; i < 100 && trail.failed; i++) await new Promise((r) => setTimeout(r, 20));
    expect(trail.failed).toBe(false);
    await trail.append('decision', { n: 3 });
    await trail.close();
    await store.close();
    const report = await verifyAudit(writerDsn, { jwks: { keys: [] } });
    const chain = report.chains.find((c) => c.instance === 'gw-c')!;
    expect(report.faults).toEqual([]);
    expect(chain.files).toBe(2);
  });

  it('names an edited row, found by the verifier on a postgres:// path', async () => {
    await admin.query(
      `UPDATE pgwarden_audit SET line = replace(line, '"n":5', '"n":6')
       WHERE instance = 'gw-a' AND seq = (SELECT min(seq) FROM pgwarden_audit
         WHERE instance = 'gw-a' AND line LIKE '%"n":5,%')`,
    );
    const report = await verifyAudit(adminDsn, { jwks: { keys: [] } });
    expect(report.ok).toBe(false);
    expect(report.firstBad?.message).toMatch(/edited/);
    expect(report.firstBad?.file).toMatch(/^audit-gw_a-/);
    expect(report.firstBad?.seq).toBeGreaterThan(1);
  });
});
