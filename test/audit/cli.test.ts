import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { loadOrCreateSigningKey, openAuditTrail } from '../../src/audit/index.js';
import { main } from '../../src/cli/index.js';

let root: string;
let trailDir: string;

/** Runs the CLI in-process and captures what it prints. */
async function run(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const o = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    out += String(chunk);
    return true;
  });
  const e = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
    err += String(chunk);
    return true;
  });
  try {
    const code = await main(['node', 'pgwarden', 'audit', ...args]);
    return { code, out, err };
  } finally {
    o.mockRestore();
    e.mockRestore();
    process.exitCode = undefined;
  }
}

function statement(session: string, text: string, table: string, allow: boolean) {
  return {
    session,
    statement: `${session}-st`,
    subject: session === 'c-1' ? 'repo:acme/etl' : 'repo:acme/ci',
    decision_id: `d-${session}`,
    outcome: allow ? 'allow' : 'deny',
    text,
    tables: [{ schema: 'public', name: table, operations: ['read'] }],
    reasons: [allow ? 'etl may read' : 'ci may not read'],
    mask: allow ? { 'public.cards.pan': 'pan_last4' } : {},
    bundle: { hash: 'ab'.repeat(32), revision: 'r7' },
    input: { identity: { subject: 'x' }, statement: { text } },
  };
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'pgw-audit-cli-'));
  trailDir = join(root, 'trail');
  const key = await loadOrCreateSigningKey(join(root, 'key.jwk'));
  const trail = await openAuditTrail({
    dir: trailDir,
    durability: 'strict',
    instance: 'gw',
    signingKey: key,
    checkpointEvery: 4,
  });
  await writeFile(join(root, 'jwks.json'), JSON.stringify(trail.jwks()));
  await trail.append('session', { session: 'c-1', event: 'start', subject: 'repo:acme/etl' });
  await trail.append('decision', statement('c-1', 'SELECT pan FROM cards', 'cards', true));
  await trail.append('execution', { session: 'c-1', command_tag: 'SELECT 2', rows: 2 });
  await trail.append('response', {
    session: 'c-1',
    rows: 2,
    bytes: 40,
    sha256: 'cd'.repeat(32),
    recorded_rows: [['************1111'], ['************0004']],
  });
  await trail.append('session', { session: 'c-2', event: 'start', subject: 'repo:acme/ci' });
  await trail.append('decision', statement('c-2', 'SELECT * FROM orders', 'orders', false));
  await trail.append('session', { session: 'c-1', event: 'end' });
  await trail.close();
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('pgwarden audit verify', () => {
  it('passes a good trail with independent keys', async () => {
    const r = await run('verify', trailDir, '--jwks', join(root, 'jwks.json'));
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^OK: 10 records in 1 files, 3 checkpoints, 3 signatures verified/);
  });

  it('fails with one line naming the first bad record', async () => {
    const copy = join(root, 'edited');
    await import('node:fs/promises').then((fs) => fs.cp(trailDir, copy, { recursive: true }));
    const [file] = (await readdir(copy)).filter((f) => f.endsWith('.jsonl'));
    const text = await readFile(join(copy, file!), 'utf8');
    await writeFile(join(copy, file!), text.replace('SELECT 2', 'SELECT 9'));
    const r = await run('verify', copy);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/^FAILED/);
    expect(r.err.trim().split('\n')).toHaveLength(1);
    expect(r.err).toMatch(/line 4 seq 4: hash does not match.*ERR_AUDIT_VERIFY/);
  });

  it('reports misuse in one line', async () => {
    const missing = await run('verify');
    expect(missing.code).not.toBe(0);
    expect(missing.err.trim().split('\n')).toHaveLength(1);
    const nothing = await run('verify', join(root, 'nope'));
    expect(nothing.code).toBe(1);
    expect(nothing.err).toMatch(/ENOENT|no such file/);
  });
});

describe('pgwarden audit query, session, export', () => {
  it('filters by subject, outcome, table and kind', async () => {
    const bySubject = await run('query', trailDir, '--subject', 'repo:acme/ci');
    const records = bySubject.out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(records.map((r) => r.kind)).toEqual(['session', 'decision']);

    const denied = await run('query', trailDir, '--decision', 'deny', '--format', 'table');
    expect(denied.code).toBe(0);
    expect(denied.out).toMatch(/^SEQ\s+TIME\s+KIND/);
    expect(denied.out.trim().split('\n')).toHaveLength(2);
    expect(denied.out).toContain('public.orders');

    const cards = await run('query', trailDir, '--table', 'cards', '--kind', 'decision');
    expect(cards.out.trim().split('\n')).toHaveLength(1);
    const future = await run('query', trailDir, '--since', '2999-01-01T00:00:00Z');
    expect(future.out).toBe('');
    const recent = await run('query', trailDir, '--since', '1h', '--kind', 'session');
    expect(recent.out.trim().split('\n')).toHaveLength(3);
  });

  it('rejects bad filter values in one line', async () => {
    for (const args of [
      ['--since', 'yesterday'],
      ['--decision', 'maybe'],
      ['--format', 'xml'],
    ]) {
      const r = await run('query', trailDir, ...args);
      expect(r.code).not.toBe(0);
      expect(r.err.trim().split('\n')).toHaveLength(1);
    }
  });

  it('plays a session back in order', async () => {
    const r = await run('session', trailDir, 'c-1');
    expect(r.code).toBe(0);
    const kinds = r.out
      .split('\n')
      .filter((l) => /#\d+/.test(l))
      .map((l) => l.split(/\s+/)[2]);
    expect(kinds).toEqual(['session', 'decision', 'execution', 'response', 'session']);
    expect(r.out).toContain('************0004');
    const none = await run('session', trailDir, 'c-404');
    expect(none.code).toBe(1);
  });

  it('exports decisions as OPA decision-log events', async () => {
    const out = join(root, 'decisions.jsonl');
    const r = await run('export', trailDir, '--format', 'opa-decision-log', '-o', out);
    expect(r.code).toBe(0);
    const events = (await readFile(out, 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(events).toHaveLength(2);
    expect(events[0]).toMatchObject({
      decision_id: 'd-c-1',
      path: 'pgwarden/decision',
      input: { statement: { text: 'SELECT pan FROM cards' } },
      result: { allow: true, mask: { 'public.cards.pan': 'pan_last4' } },
      bundles: { pgwarden: { revision: 'r7' } },
    });
    expect(events[1].result.allow).toBe(false);
    const bad = await run('export', trailDir, '--format', 'csv');
    expect(bad.code).not.toBe(0);
    const missing = await run('export', trailDir);
    expect(missing.code).not.toBe(0);
  });

  it('has help for every subcommand', async () => {
    for (const sub of ['verify', 'query', 'session', 'export']) {
      const r = await run(sub, '--help');
      expect(r.code).toBe(0);
      expect(r.out).toMatch(/Usage: pgwarden audit/);
    }
  });
});
