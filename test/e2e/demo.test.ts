// The main job on real input: the demo's gateway in front of a real PostgreSQL, real `pg`
// clients with identity tokens, the shipped policy compiled by the project's own toolchain,
// masking, an approval over the HTTP API, and the audit trail verified at the end.
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyAudit } from '../../src/audit/index.js';
import { DEMO_PANS } from '../../src/cli/demo/seed.js';
import { startDemo, type RunningDemo } from '../../src/cli/demo/run.js';
import { silentLogger } from '../../src/logger.js';

let demo: RunningDemo;
let stateDir: string;

beforeAll(async () => {
  stateDir = await mkdtemp(path.join(os.tmpdir(), 'pgwarden-e2e-'));
  demo = await startDemo({ stateDir, gatewayPort: 0, httpPort: 0, logger: silentLogger });
}, 180_000);

afterAll(async () => {
  await demo?.stop();
  await rm(stateDir, { recursive: true, force: true });
  if (demo) await rm(demo.info.postgres_data_dir, { recursive: true, force: true });
});

async function token(name: string): Promise<string> {
  return readFile(demo.info.identities[name]!.token_file, 'utf8');
}

async function connect(name: string, notices: string[] = []): Promise<pg.Client> {
  const client = new pg.Client({
    host: demo.info.gateway.host,
    port: demo.info.gateway.port,
    database: 'payments',
    user: name,
    password: await token(name),
    ssl: { ca: await readFile(demo.info.gateway.ca_file, 'utf8') },
  });
  client.on('notice', (notice) => notices.push(`${notice.message ?? ''} ${notice.detail ?? ''}`));
  await client.connect();
  return client;
}

async function api(method: string, url: string, who: string, body?: unknown) {
  const res = await fetch(demo.info.http + url, {
    method,
    headers: { authorization: `Bearer ${await token(who)}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe('the demo gateway', () => {
  it('shows the CI job card numbers masked, over TLS', async () => {
    const client = await connect('etl');
    try {
      const { rows } = await client.query('SELECT id, pan FROM cards WHERE id <= 3 ORDER BY id');
      expect(rows.map((r) => r.pan)).toEqual([
        '************1111',
        '************4444',
        '***********0005',
      ]);
      const derived = await client.query("SELECT 'x' || pan AS p FROM cards WHERE id = 1");
      expect(derived.rows[0].p).not.toContain('4111111111111111');
    } finally {
      await client.end();
    }
  });

  it('refuses DDL from the CI job with the policy reason and a decision id', async () => {
    const client = await connect('etl');
    try {
      const err = await client.query('CREATE TABLE scratch (a int)').catch((e: unknown) => e);
      expect(err).toMatchObject({ code: '42501' });
      expect((err as Error).message).toMatch(/DDL \(create_table\) is refused for CI identities/);
      expect((err as Error).message).toMatch(/decision d-/);
    } finally {
      await client.end();
    }
  });

  it('refuses a connection with a bad token', async () => {
    const client = new pg.Client({
      host: demo.info.gateway.host,
      port: demo.info.gateway.port,
      database: 'payments',
      user: 'etl',
      password: (await token('etl')).slice(0, -4) + 'AAAA',
      ssl: { rejectUnauthorized: false },
    });
    const err = await client.connect().catch((e: unknown) => e);
    expect((err as { code?: string }).code).toMatch(/^28/);
  });

  it('holds a bulk export until an approver says yes, and refuses self-approval', async () => {
    const notices: string[] = [];
    const client = await connect('etl', notices);
    try {
      const pending = client.query('SELECT id, pan FROM cards');
      const id = await waitFor(() => notices.join(' ').match(/\b(a-[0-9a-f-]{36})\b/)?.[1]);
      // Regression: with an automatic HTTP port the link named port 0.
      expect(notices.join(' ')).toContain(`${demo.info.http}/approvals#${id}`);
      const self = await api('POST', `/v1/approvals/${id}/approve`, 'etl', { comment: 'me' });
      expect(self.status).toBe(403);
      const listed = await api('GET', '/v1/approvals?status=pending', 'approver');
      expect(JSON.stringify(listed.body)).toContain(id);
      const approved = await api('POST', `/v1/approvals/${id}/approve`, 'approver', {
        comment: 'nightly export, ticket 42',
      });
      expect(approved.status).toBe(200);
      const { rows } = await pending;
      expect(rows).toHaveLength(DEMO_PANS.length);
      for (const row of rows) expect(row.pan).toMatch(/^\*+\d{4}$/);
    } finally {
      await client.end();
    }
  });

  it('counts statements by outcome on /metrics', async () => {
    const text = await (await fetch(`${demo.info.http}/metrics`)).text();
    expect(text).toMatch(/pgwarden_statements_total\{outcome="deny"\} [1-9]/);
    expect(text).toMatch(/pgwarden_statements_total\{outcome="(mask|allow)"\} [1-9]/);
    expect(text).not.toMatch(/outcome="unknown"/);
    expect(text).toMatch(/pgwarden_statement_seconds_count [1-9]/);
  });

  it('keeps a verifiable audit trail without a single card number in it', async () => {
    await demo.pgwarden.close();
    const report = await verifyAudit(demo.info.audit_dir);
    expect(report.faults).toEqual([]);
    expect(report.ok).toBe(true);
    expect(report.signaturesVerified).toBeGreaterThan(0);
    for (const file of await readdir(demo.info.audit_dir)) {
      const bytes = await readFile(path.join(demo.info.audit_dir, file), 'latin1');
      for (const pan of DEMO_PANS) expect(bytes).not.toContain(pan);
    }
  });
});

async function waitFor<T>(probe: () => T | undefined, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
