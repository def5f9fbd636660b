// The approvals page in headless Chromium: a bulk export from the CI job is held, the approver
// pastes their token into the page, sees the request and clicks Approve; the held statement then
// completes with card numbers still masked.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run, startDemoProcess, waitFor, type DemoProcess } from './support/demo.js';

const CHROMIUM = process.env.PGWARDEN_CHROMIUM ?? '/usr/bin/chromium';

let demo: DemoProcess;
let browser: BrowserContext;
let profile: string;
/** Where the screenshot goes; kept after the run so a person can look at it. */
let shots: string;

beforeAll(async () => {
  profile = await mkdtemp(path.join(os.tmpdir(), 'pgwarden-chromium-'));
  shots = await mkdtemp(path.join(os.tmpdir(), 'pgwarden-screenshots-'));
  demo = await startDemoProcess();
  // A fresh profile per run (launchPersistentContext is how playwright takes --user-data-dir).
  browser = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1280, height: 720 },
    // These keep Chromium off the network and away from the GPU.
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
});

afterAll(async () => {
  await browser?.close();
  await demo?.stop();
  await rm(profile, { recursive: true, force: true });
});

describe('the approvals page', () => {
  it('lets an approver approve a held bulk export from the CI job', async () => {
    const env = await demo.env('etl', true);
    // A SELECT of every card with no WHERE and no LIMIT is a bulk export: the policy holds it.
    const held = run(
      'psql',
      ['-X', '-At', '-v', 'ON_ERROR_STOP=1', '-c', 'SELECT id, pan FROM cards ORDER BY id'],
      env,
    );

    const page = await browser.newPage();
    const prompts: string[] = [];
    page.on('dialog', (dialog) => {
      prompts.push(dialog.message());
      void dialog.accept('nightly export, checked by the client suite');
    });
    await page.goto(`${demo.info.http}/approvals`);
    expect(await page.title()).toBe('pgwarden approvals');
    await page.fill('#token', await demo.token('approver'));
    await page.click('#save');

    // The page polls every few seconds; the held request shows up as a row with its statement.
    const row = page.locator('#pending tbody tr', { hasText: 'FROM cards' });
    await row.waitFor({ timeout: 20_000 });
    await expect(row.textContent()).resolves.toContain('bulk export of cardholder data');
    await expect(row.textContent()).resolves.toContain('repo:acme/payments');
    await page.screenshot({ path: path.join(shots, 'approvals-pending.png'), fullPage: true });

    await row.locator('button.approve').click();
    const out = await held;
    expect(prompts).toEqual(['Comment for approval']);
    expect(out.code, out.stderr).toBe(0);
    expect(out.stderr).toMatch(/held for approval/);
    const rows = out.stdout.trim().split('\n');
    expect(rows).toHaveLength(10);
    for (const line of rows) expect(line).toMatch(/^\d+\|\*+\d{4}$/);

    // The decided request moves to the page's recent decisions, naming the approver.
    await waitFor(async () => {
      const recent = (await page.textContent('#recent tbody')) ?? '';
      return recent.includes('approved') ? recent : undefined;
    });
    expect(await page.textContent('#recent tbody')).toContain('approver@acme.example');
    expect(await page.textContent('#error')).toBe('');
    await page.screenshot({ path: path.join(shots, 'approvals-decided.png'), fullPage: true });
    await page.close();
  });

  // Regression: every COPY whose decision carried masks was refused, and only after a person had
  // approved it; COPY output is now masked row by row.
  it('finishes an approved COPY export with the card numbers masked', async () => {
    const env = await demo.env('etl');
    const held = run(
      'psql',
      ['-X', '-At', '-c', 'COPY (SELECT id, brand, pan FROM cards ORDER BY id) TO STDOUT'],
      env,
    );
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
      body: JSON.stringify({ comment: 'export with card numbers masked' }),
    });
    expect(approved.status).toBe(200);
    const out = await held;
    expect(out.stderr).not.toMatch(/ERROR/);
    const lines = out.stdout.trim().split('\n');
    expect(lines).toHaveLength(10);
    for (const line of lines) expect(line).toMatch(/^\d+\t\w+\t\*+\d{4}$/);
  });

  it('shows the reason when the token is not an approver', async () => {
    const page = await browser.newPage();
    await page.goto(`${demo.info.http}/approvals`);
    await page.fill('#token', 'not-a-token');
    await page.click('#save');
    await waitFor(async () => ((await page.textContent('#error')) || undefined) ?? undefined);
    expect(await page.locator('#pending tbody tr').count()).toBe(0);
    await page.close();
  });
});
