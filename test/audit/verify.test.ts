import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  loadOrCreateSigningKey,
  openAuditTrail,
  verifyAudit,
  type JsonWebKeySet,
} from '../../src/audit/index.js';

let root: string;
let trailDir: string;
let sink: string;
let jwks: JsonWebKeySet;

/** Writes 20 decision records with a checkpoint every 5, and a copy of checkpoints in `sink`. */
async function writeTrail(options: { close?: boolean; count?: number } = {}): Promise<string> {
  const key = await loadOrCreateSigningKey(join(root, 'key.jwk'));
  const trail = await openAuditTrail({
    dir: trailDir,
    durability: 'strict',
    instance: 'gw',
    signingKey: key,
    checkpointEvery: 5,
    checkpointSink: sink,
  });
  for (let i = 0; i < (options.count ?? 20); i++)
    await trail.append('decision', { statement: `s-${i}`, n: i });
  jwks = trail.jwks();
  if (options.close !== false) await trail.close();
  else await trail.flush();
  const [file] = (await readdir(trailDir)).filter((f) => f.endsWith('.jsonl'));
  return join(trailDir, file!);
}

async function rewriteLines(file: string, edit: (lines: string[]) => string[]): Promise<void> {
  const lines = (await readFile(file, 'utf8')).split('\n').slice(0, -1);
  await writeFile(
    file,
    edit(lines)
      .map((l) => `${l}\n`)
      .join(''),
  );
}

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'pgw-verify-'));
  trailDir = join(root, 'trail');
  sink = join(root, 'sink', 'checkpoints.jsonl');
  await import('node:fs/promises').then((fs) => fs.mkdir(join(root, 'sink')));
});

afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('verifyAudit detects tampering', () => {
  it('passes an untouched trail with its sink', async () => {
    await writeTrail();
    const report = await verifyAudit(trailDir, { jwks, checkpoints: sink });
    expect(report.faults).toEqual([]);
    expect(report.ok).toBe(true);
    expect(report.warnings).toEqual([]);
  });

  it('names the record whose byte was edited', async () => {
    const file = await writeTrail();
    await rewriteLines(file, (lines) => {
      lines[7] = lines[7]!.replace('"s-5"', '"s-6"');
      return lines;
    });
    const report = await verifyAudit(trailDir, { jwks });
    expect(report.ok).toBe(false);
    expect(report.firstBad).toMatchObject({ line: 8, seq: 8 });
    expect(report.firstBad?.message).toMatch(/hash does not match/);
    expect(report.faults).toHaveLength(1);
  });

  it('detects a byte flipped into invalid JSON', async () => {
    const file = await writeTrail();
    const data = await readFile(file);
    data[data.indexOf('"s-3"') + 1] = 0x22; // a stray quote breaks the line
    await writeFile(file, data);
    const report = await verifyAudit(trailDir, { jwks });
    expect(report.ok).toBe(false);
    expect(report.firstBad?.line).toBe(5);
  });

  it('detects a deleted record', async () => {
    const file = await writeTrail();
    await rewriteLines(file, (lines) => lines.filter((_, i) => i !== 10));
    const report = await verifyAudit(trailDir, { jwks });
    expect(report.ok).toBe(false);
    expect(report.firstBad).toMatchObject({ line: 11, seq: 12 });
    expect(report.firstBad?.message).toMatch(/records missing/);
  });

  it('detects swapped records', async () => {
    const file = await writeTrail();
    await rewriteLines(file, (lines) => {
      [lines[3], lines[4]] = [lines[4]!, lines[3]!];
      return lines;
    });
    const report = await verifyAudit(trailDir, { jwks });
    expect(report.ok).toBe(false);
    expect(report.firstBad).toMatchObject({ line: 4, seq: 5 });
  });

  it('detects a forged checkpoint signature', async () => {
    const file = await writeTrail();
    const other = await loadOrCreateSigningKey(join(root, 'other.jwk'));
    const report = await verifyAudit(trailDir, { jwks: { keys: [other.publicJwk] } });
    expect(report.ok).toBe(false);
    expect(report.firstBad).toMatchObject({ line: 1 });
    expect(report.firstBad?.message).toMatch(/signature does not verify/);
    expect(file).toBeTruthy();
  });

  it('detects a truncated tail through the checkpoint sink', async () => {
    const file = await writeTrail();
    // Cut the trail back to a checkpoint boundary: the chain alone still looks whole.
    await rewriteLines(file, (lines) => lines.slice(0, 13));
    const alone = await verifyAudit(trailDir, { jwks });
    expect(alone.ok).toBe(true);
    expect(alone.warnings.join('\n')).not.toMatch(/follow the last checkpoint/);

    const withSink = await verifyAudit(trailDir, { jwks, checkpoints: sink });
    expect(withSink.ok).toBe(false);
    expect(withSink.firstBad?.message).toMatch(/truncated/);
  });

  it('warns about records after the last checkpoint', async () => {
    await writeTrail({ close: false, count: 22 });
    const report = await verifyAudit(trailDir, { jwks });
    expect(report.ok).toBe(true);
    expect(report.warnings.join('\n')).toMatch(/records 26\.\.27 follow the last checkpoint/);
  });

  it('accepts a torn final line as a crash leaves it, with a warning', async () => {
    const file = await writeTrail({ close: false, count: 22 });
    const data = await readFile(file);
    await writeFile(file, Buffer.concat([data, Buffer.from('{"seq":23,"ti')]));
    const report = await verifyAudit(trailDir, { jwks });
    expect(report.ok).toBe(true);
    expect(report.warnings.join('\n')).toMatch(/13 bytes after the last newline/);
  });
});
