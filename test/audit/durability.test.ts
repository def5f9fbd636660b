import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadOrCreateSigningKey, openAuditTrail, verifyAudit } from '../../src/audit/index.js';

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pgw-durable-'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function until(check: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('strict durability', () => {
  it('shares fsyncs between concurrent appends (group commit) and keeps call order', async () => {
    const trail = await openAuditTrail({ dir, durability: 'strict', instance: 'gw' });
    const before = trail.stats().fsyncs;
    await Promise.all(Array.from({ length: 300 }, (_, i) => trail.append('decision', { i })));
    const stats = trail.stats();
    expect(stats.fsyncs - before).toBeLessThan(30);
    expect(stats.queued).toBe(0);
    await trail.close();
    const [file] = await readdir(dir);
    const records = (await readFile(join(dir, file!), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { kind: string; i?: number });
    const order = records.filter((r) => r.kind === 'decision').map((r) => r.i);
    expect(order).toEqual(Array.from({ length: 300 }, (_, i) => i));
  });

  it('resolves an append only once its record is in the file', async () => {
    const trail = await openAuditTrail({ dir, durability: 'strict', instance: 'gw' });
    await trail.append('decision', { marker: 'on-disk-before-resolve' });
    const [file] = await readdir(dir);
    expect(await readFile(join(dir, file!), 'utf8')).toContain('on-disk-before-resolve');
    await trail.close();
  });
});

describe('write failure (/dev/full)', () => {
  it('refuses to open on a full device', async () => {
    await expect(
      openAuditTrail({ dir, durability: 'strict', instance: 'gw', openPath: () => '/dev/full' }),
    ).rejects.toMatchObject({ code: 'ERR_AUDIT_WRITE' });
  });

  it('rejects appends while the disk is full, then recovers and the chain verifies', async () => {
    let full = false;
    const key = await loadOrCreateSigningKey(join(dir, 'key.jwk'));
    const trailDir = join(dir, 'trail');
    const trail = await openAuditTrail({
      dir: trailDir,
      durability: 'strict',
      instance: 'gw',
      signingKey: key,
      // Every append starts a new file, so the next file opened lands on /dev/full.
      rotateBytes: 1,
      retryMs: 20,
      openPath: (path) => (full ? '/dev/full' : path),
    });
    await trail.append('decision', { n: 1 });
    full = true;
    await expect(trail.append('decision', { n: 2 })).rejects.toMatchObject({
      code: 'ERR_AUDIT_WRITE',
      message: expect.stringMatching(/ENOSPC/),
    });
    expect(trail.failed).toBe(true);
    await expect(trail.append('decision', { n: 3 })).rejects.toMatchObject({
      code: 'ERR_AUDIT_WRITE',
    });
    expect(trail.stats()).toMatchObject({ failed: true, failures: 1 });

    // Still full: retries keep failing and appends stay refused.
    await new Promise((r) => setTimeout(r, 60));
    expect(trail.failed).toBe(true);

    full = false;
    await until(() => !trail.failed);
    await trail.append('decision', { n: 4 });
    await trail.close();

    const text = (await readdir(trailDir)).filter((f) => f.endsWith('.jsonl'));
    const all = await Promise.all(text.map((f) => readFile(join(trailDir, f), 'utf8')));
    const records = all
      .join('')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(records.filter((r) => r.kind === 'decision').map((r) => r.n)).toEqual([1, 4]);
    expect(records.find((r) => r.reason === 'recover')).toMatchObject({ failure: 'ENOSPC' });
    const report = await verifyAudit(trailDir, { jwks: trail.jwks() });
    expect(report.faults).toEqual([]);
  });

  it('in batched mode marks the trail failed and rejects flush', async () => {
    let full = false;
    const trail = await openAuditTrail({
      dir,
      durability: 'batched',
      instance: 'gw',
      rotateBytes: 1,
      retryMs: 10_000,
      openPath: (path) => (full ? '/dev/full' : path),
    });
    full = true;
    await trail.append('decision', { n: 1 }); // acknowledged at once
    await expect(trail.flush()).rejects.toMatchObject({ code: 'ERR_AUDIT_WRITE' });
    expect(trail.failed).toBe(true);
    expect(trail.stats().lost).toBeGreaterThan(0);
    await expect(trail.append('decision', { n: 2 })).rejects.toMatchObject({
      code: 'ERR_AUDIT_WRITE',
    });
    await trail.close();
  });
});

describe('card numbers never reach the disk', () => {
  it('masks card numbers in any string, key or number a caller passes', async () => {
    const sink = join(dir, 'sink.jsonl');
    const trailDir = join(dir, 'trail');
    const trail = await openAuditTrail({
      dir: trailDir,
      durability: 'strict',
      instance: 'gw',
      checkpointSink: sink,
      checkpointEvery: 1,
    });
    const digest = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
    await trail.append('decision', {
      text: "SELECT * FROM cards WHERE pan = '4111111111111111'",
      input: { params: ['4111 1111 1111 1111', { nested: 'x 5500-0000-0000-0004 y' }] },
      pan: 4111111111111111,
      '378282246310005': 'amex as a key',
      order: '1234567890123',
      digest,
    });
    await trail.close();
    const files = [...(await readdir(trailDir)).map((f) => join(trailDir, f)), sink];
    const raw = (await Promise.all(files.map((f) => readFile(f)))).map((b) => b.toString('latin1'));
    const bytes = raw.join('');
    for (const pan of [
      '4111111111111111',
      '4111 1111 1111 1111',
      '5500-0000-0000-0004',
      '5500000000000004',
      '378282246310005',
    ]) {
      expect(bytes).not.toContain(pan);
    }
    expect(bytes).toContain("pan = '[card-number]'");
    // Not Luhn-valid, and a hex digest: both left alone.
    expect(bytes).toContain('1234567890123');
    expect(bytes).toContain(digest);
  });
});
