// An ETL export with psql through the demo gateway: `COPY ... TO STDOUT` and `\copy` of every
// card, held for approval as the shipped policy says, approved over the API, and written with
// the card numbers masked in text and CSV; binary COPY is refused with the reason.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_PANS } from '../../src/cli/demo/seed.js';
import { readAudit, run, startDemoProcess, waitFor, type DemoProcess } from './support/demo.js';

let demo: DemoProcess;
let scratch: string;

beforeAll(async () => {
  demo = await startDemoProcess();
  scratch = await mkdtemp(path.join(os.tmpdir(), 'pgwarden-copy-'));
});

afterAll(async () => {
  await demo?.stop();
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

/** Runs psql as etl with `command`, approving its held request as the approver. */
async function heldExport(command: string, tls = true) {
  const env = await demo.env('etl', tls);
  const started = Date.now();
  const held = run('psql', ['-X', '-At', '-v', 'ON_ERROR_STOP=1', '-c', command], env);
  const token = await demo.token('approver');
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  const id = await waitFor(async () => {
    const res = await fetch(`${demo.info.http}/v1/approvals?status=pending`, { headers });
    const body = (await res.json()) as { approvals: Array<{ id: string; text: string }> };
    return body.approvals.find((a) => a.text.startsWith('COPY'))?.id;
  });
  const approved = await fetch(`${demo.info.http}/v1/approvals/${id}/approve`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ comment: `copy export test ${started}` }),
  });
  expect(approved.status).toBe(200);
  return held;
}

function expectNoCardNumber(text: string): void {
  for (const pan of DEMO_PANS) expect(text).not.toContain(pan);
}

describe('COPY export with psql', () => {
  it('COPY ... TO STDOUT in text format, held, approved, pan masked', async () => {
    const out = await heldExport('COPY (SELECT id, brand, pan FROM cards ORDER BY id) TO STDOUT');
    expect(out.stderr).toMatch(/held for approval/);
    expect(out.stderr).not.toMatch(/ERROR/);
    const lines = out.stdout.trim().split('\n');
    expect(lines).toHaveLength(10);
    for (const line of lines) expect(line).toMatch(/^\d+\t\w+\t\*+\d{4}$/);
    expectNoCardNumber(out.stdout);
  });

  it('\\copy to a CSV file with a header, over plaintext loopback', async () => {
    const file = path.join(scratch, 'cards.csv');
    const out = await heldExport(
      `\\copy (SELECT id, brand, pan FROM cards ORDER BY id) TO '${file}' WITH (FORMAT csv, HEADER)`,
      false,
    );
    expect(out.stderr).not.toMatch(/ERROR/);
    expect(out.stdout.trim()).toBe('COPY 10');
    const csv = await readFile(file, 'utf8');
    const lines = csv.trim().split('\n');
    expect(lines[0]).toBe('id,brand,pan');
    expect(lines).toHaveLength(11);
    for (const line of lines.slice(1)) expect(line).toMatch(/^\d+,\w+,\*+\d{4}$/);
    expectNoCardNumber(csv);
  });

  it('a whole-table COPY keeps holders and masks only the card number', async () => {
    const out = await heldExport('COPY cards TO STDOUT (FORMAT csv)');
    expect(out.stderr).not.toMatch(/ERROR/);
    expect(out.stdout.trim().split('\n')).toHaveLength(10);
    expect(out.stdout).toMatch(/\*{12}1111/);
    expectNoCardNumber(out.stdout);
  });

  it('records the export in the audit: 10 rows, pan masked 10 times', async () => {
    const records = await waitFor(async () => {
      const all = await readAudit(demo);
      const responses = all.filter(
        (r) => r.kind === 'response' && r.rows === 10 && r.masked !== null,
      );
      return responses.length >= 3 ? responses : undefined;
    });
    for (const record of records) {
      expect(record.masked).toMatchObject({
        columns: [{ column: 'public.cards.pan', method: 'pan_last4', values: 10 }],
      });
      expect(record.bytes).toBeGreaterThan(100);
    }
  });

  it('refuses binary COPY with a reason before any approval', async () => {
    const out = await run(
      'psql',
      ['-X', '-At', '-c', 'COPY cards TO STDOUT (FORMAT binary)'],
      await demo.env('etl', false),
    );
    expect(out.code).not.toBe(0);
    expect(out.stderr).toMatch(/COPY in binary format cannot be masked; use FORMAT text or csv/);
  });
});
