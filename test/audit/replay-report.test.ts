import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openAuditTrail } from '../../src/audit/index.js';
import { replayDecision, type ReplayEvaluator } from '../../src/audit/replay.js';
import { buildEvidenceReport } from '../../src/audit/report.js';
import { registerAudit } from '../../src/cli/commands/audit.js';

const CHROMIUM = '/usr/bin/chromium';
const BUNDLE = { hash: 'ab'.repeat(32), revision: 'r7' };

let root: string;
let trailDir: string;

/** A stand-in policy: reads are allowed with the PAN masked, anything else is denied. */
const evaluate: ReplayEvaluator = async (bundleFile, input) => {
  const text = (input as { statement: { text: string } }).statement.text;
  const allow = text.startsWith('SELECT');
  return {
    decision: {
      allow,
      reasons: [allow ? 'reads allowed' : 'writes denied'],
      mask: allow ? { 'public.cards.pan': 'pan_last4' } : {},
      approval: null,
    },
    bundle: bundleFile === 'old.tar.gz' ? { hash: 'ef'.repeat(32), revision: 'r6' } : BUNDLE,
  };
};

function decision(subject: string, text: string, allow: boolean) {
  return {
    session: 'c-1',
    subject,
    decision_id: `d-${text.length}`,
    outcome: allow ? 'allow' : 'deny',
    text,
    reasons: [allow ? 'reads allowed' : 'writes denied'],
    mask: allow ? { 'public.cards.pan': 'pan_last4' } : {},
    bundle: BUNDLE,
    input: { identity: { subject }, statement: { text } },
  };
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'pgw-replay-'));
  trailDir = join(root, 'trail');
  const trail = await openAuditTrail({ dir: trailDir, durability: 'strict', instance: 'gw' });
  await trail.append('gateway', { event: 'start' });
  await trail.append('bundle', { event: 'load', bundle: BUNDLE });
  await trail.append('decision', decision('repo:acme/etl', 'SELECT pan FROM cards', true)); // 4
  await trail.append('decision', decision('repo:acme/ci', 'DELETE FROM cards', false)); // 5
  await trail.append('decision', decision('repo:acme/ci', "UPDATE x SET a='<script>'", true));
  await trail.append('auth', { subject: 'repo:evil', outcome: 'failure', client_addr: '10.9.9.9' });
  await trail.append('approval', {
    event: 'approved',
    subject: 'repo:acme/ci',
    approver: 'alice@example.com',
    request: 'r-1',
  });
  await trail.close();
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('replay', () => {
  it('reproduces a recorded decision under the same bundle', async () => {
    const allowed = await replayDecision(trailDir, { seq: 4, bundle: 'b.tar.gz', evaluate });
    expect(allowed).toMatchObject({ same: true, bundleMatches: true, sameOutcome: true });
    const denied = await replayDecision(trailDir, { seq: 5, bundle: 'b.tar.gz', evaluate });
    expect(denied.same).toBe(true);
    expect(denied.replayed.outcome).toBe('deny');
  });

  it('shows a different bundle and a different outcome', async () => {
    const other = await replayDecision(trailDir, { seq: 4, bundle: 'old.tar.gz', evaluate });
    expect(other).toMatchObject({ same: false, bundleMatches: false, sameOutcome: true });
    // Recorded as allowed, but this policy denies writes.
    const changed = await replayDecision(trailDir, { seq: 6, bundle: 'b.tar.gz', evaluate });
    expect(changed).toMatchObject({ same: false, sameOutcome: false, sameMasks: false });
  });

  it('follows cached_from to the input of the decision a cached decision reused', async () => {
    const dir = join(root, 'cached');
    const trail = await openAuditTrail({ dir, durability: 'strict', instance: 'gw' });
    await trail.append('decision', decision('repo:acme/etl', 'SELECT pan FROM cards', true)); // 2
    // As the gateway records a decision from its cache: no input, the original's id instead.
    const cached = (text: string, from: string) => ({
      statement_id: 's-2',
      text,
      decision: {
        id: 'd-cached',
        allow: true,
        reasons: ['reads allowed'],
        mask: { 'public.cards.pan': 'pan_last4' },
      },
      cached_from: from,
      bundle: BUNDLE,
      eval_micros: 0,
    });
    await trail.append('decision', cached("SELECT pan FROM cards WHERE id = '?'", 'd-21')); // 3
    await trail.append('decision', cached('SELECT 1', 'd-missing')); // 4
    await trail.close();

    const report = await replayDecision(dir, { seq: 3, bundle: 'b', evaluate });
    expect(report.inputFrom).toEqual({ seq: 2, decisionId: 'd-21' });
    expect(report).toMatchObject({ decisionId: 'd-cached', same: true });
    await expect(replayDecision(dir, { seq: 4, bundle: 'b', evaluate })).rejects.toMatchObject({
      code: 'ERR_AUDIT_VERIFY',
      message: expect.stringMatching(/d-missing/),
    });
    const own = await replayDecision(dir, { seq: 2, bundle: 'b', evaluate });
    expect(own.inputFrom).toBeUndefined();

    let out = '';
    const program = new Command('pgwarden').exitOverride();
    registerAudit(program, { evaluate });
    const write = process.stdout.write;
    process.stdout.write = ((chunk: string) => ((out += chunk), true)) as typeof write;
    try {
      await program.parseAsync([
        'node',
        'p',
        'audit',
        'replay',
        dir,
        '--seq',
        '3',
        '--bundle',
        'b',
      ]);
    } finally {
      process.stdout.write = write;
    }
    expect(out).toMatch(/replayed the input of decision d-21 \(seq 2\), named in cached_from/);
    expect(out).toMatch(/bundle matches; outcome same; masks same/);
  });

  it('refuses records that are not decisions', async () => {
    await expect(replayDecision(trailDir, { seq: 2, bundle: 'b', evaluate })).rejects.toThrow(
      /not a decision/,
    );
  });

  it('runs from the command line with the evaluator the program was given', async () => {
    let out = '';
    const program = new Command('pgwarden').exitOverride();
    program.configureOutput({ writeOut: (s) => (out += s), writeErr: () => undefined });
    registerAudit(program, { evaluate });
    const write = process.stdout.write;
    process.stdout.write = ((chunk: string) => ((out += chunk), true)) as typeof write;
    try {
      await program.parseAsync([
        'node',
        'p',
        'audit',
        'replay',
        trailDir,
        '--seq',
        '4',
        '--bundle',
        'b',
      ]);
      expect(out).toMatch(/bundle matches; outcome same; masks same/);
      await expect(
        program.parseAsync([
          'node',
          'p',
          'audit',
          'replay',
          trailDir,
          '--seq',
          '6',
          '--bundle',
          'b',
        ]),
      ).rejects.toMatchObject({ code: 'ERR_AUDIT_VERIFY' });
    } finally {
      process.stdout.write = write;
    }
  });
});

describe('evidence report', () => {
  it.skipIf(!existsSync(CHROMIUM))(
    'renders in headless Chromium with every PCI DSS section (skipped without /usr/bin/chromium)',
    async () => {
      const html = await buildEvidenceReport(trailDir, { since: new Date(Date.now() - 3600_000) });
      const file = join(root, 'report.html');
      await import('node:fs/promises').then((fs) => fs.writeFile(file, html));
      const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
      try {
        const page = await browser.newPage();
        await page.goto(`file://${file}`);
        const headings = await page.locator('h2').allTextContents();
        expect(headings).toEqual([
          'Integrity of the trail',
          'Statements per identity, by outcome',
          'Reads of cardholder data (masked columns)',
          'Refused statements and failed authentication',
          'Approvals and their approvers',
          'Policy bundles in force',
          'Audit trail and gateway start, stop and recovery',
        ]);
        const pci = await page.locator('.pci').allTextContents();
        for (const ref of ['10.2.1.1', '10.2.1.2', '10.2.1.4', '10.2.1.6']) {
          expect(pci.join(' ')).toContain(ref);
        }
        expect(await page.locator('.verdict').textContent()).toMatch(/Verification PASSED/);
        const denied = await page.locator('#denied').textContent();
        expect(denied).toContain('DELETE FROM cards');
        expect(denied).toContain('10.9.9.9');
        expect(await page.locator('#approvals').textContent()).toContain('alice@example.com');
        expect(await page.locator('#bundles').textContent()).toContain('r7');
        // Recorded text is shown as text, never as markup.
        expect(await page.locator('script').count()).toBe(0);
        expect(await page.locator('#masked').textContent()).toContain("SET a='<script>'");
      } finally {
        await browser.close();
      }
    },
  );

  it('writes the report from the command line', async () => {
    const program = new Command('pgwarden').exitOverride();
    registerAudit(program);
    const out = join(root, 'cli-report.html');
    await program.parseAsync([
      'node',
      'p',
      'audit',
      'report',
      trailDir,
      '--since',
      '1h',
      '-o',
      out,
    ]);
    expect(await readFile(out, 'utf8')).toMatch(/^<!doctype html>/);
  });
});

describe('evidence report: masked columns', () => {
  it('names the masked columns of the tables a statement reads, not every masked column', async () => {
    const dir = join(root, 'masked-columns');
    const trail = await openAuditTrail({ dir, durability: 'strict', instance: 'gw' });
    const mask = { 'public.cards.pan': 'pan_last4', 'public.holders.email': 'email_domain' };
    await trail.append('decision', {
      ...decision('repo:acme/etl', 'SELECT id, pan FROM cards', true),
      tables: ['public.cards'],
      mask,
    });
    await trail.append('decision', {
      ...decision('repo:acme/etl', 'SELECT name FROM merchants', true),
      tables: ['public.merchants'],
      mask,
    });
    await trail.close();
    const html = await buildEvidenceReport(dir, { since: new Date(Date.now() - 3600_000) });
    const section = html.slice(html.indexOf('id="masked"'), html.indexOf('id="denied"'));
    expect(section).toContain('public.cards.pan');
    expect(section).not.toContain('public.holders.email');
    // A read of a table with nothing masked is not a read of cardholder data.
    expect(section).not.toContain('SELECT name FROM merchants');
  });
});
