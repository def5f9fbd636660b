import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadOrCreateSigningKey, openAuditTrail, verifyAudit } from '../../src/audit/index.js';

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pgw-audit-'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function lines(file: string): Promise<Record<string, unknown>[]> {
  const text = await readFile(file, 'utf8');
  return text
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe('audit trail', () => {
  it('writes a chained, signed trail that verifies', async () => {
    const key = await loadOrCreateSigningKey(join(dir, 'key.jwk'));
    const trail = await openAuditTrail({
      dir: join(dir, 'trail'),
      durability: 'strict',
      instance: 'gw1',
      signingKey: key,
      checkpointEvery: 3,
    });
    for (let i = 0; i < 10; i++) {
      await trail.append('decision', { statement: `s-${i}`, outcome: 'allow' });
    }
    await trail.close();
    const files = (await readdir(join(dir, 'trail'))).filter((f) => f.endsWith('.jsonl'));
    expect(files).toEqual(['audit-gw1-000000000001.jsonl']);
    const records = await lines(join(dir, 'trail', files[0]!));
    expect(records.map((r) => r.seq)).toEqual(records.map((_, i) => i + 1));
    expect(records[0]).toMatchObject({ kind: 'checkpoint', reason: 'open', previous_file: null });
    expect(records.at(-1)).toMatchObject({ kind: 'checkpoint', reason: 'close' });
    expect(records.filter((r) => r.kind === 'decision')).toHaveLength(10);

    const report = await verifyAudit(join(dir, 'trail'), { jwks: trail.jwks() });
    expect(report.faults).toEqual([]);
    expect(report.ok).toBe(true);
    expect(report.records).toBe(records.length);
    expect(report.signaturesVerified).toBe(report.checkpoints);
    expect(report.checkpoints).toBeGreaterThanOrEqual(5);
  });
});

async function chainFiles(trailDir: string): Promise<string[]> {
  return (await readdir(trailDir)).filter((f) => f.endsWith('.jsonl')).sort();
}

describe('rotation and continuation', () => {
  it('rotates by size; each file opens with a checkpoint naming the one before', async () => {
    const trail = await openAuditTrail({
      dir,
      durability: 'batched',
      instance: 'gw',
      rotateBytes: 600,
    });
    for (let i = 0; i < 30; i++) await trail.append('execution', { tag: 'SELECT 1', i });
    await trail.close();
    const files = await chainFiles(dir);
    expect(files.length).toBeGreaterThan(3);
    let previous: string | null = null;
    let lastHash: unknown = undefined;
    for (const name of files) {
      const records = await lines(join(dir, name));
      expect(records[0]).toMatchObject({ kind: 'checkpoint', file: name, previous_file: previous });
      if (lastHash !== undefined) expect(records[0]!.prev).toBe(lastHash);
      lastHash = records.at(-1)!.hash;
      previous = name;
    }
    const report = await verifyAudit(dir);
    expect(report.faults).toEqual([]);
    expect(report.files).toBe(files.length);
  });

  it('rotates by age', async () => {
    const trail = await openAuditTrail({
      dir,
      durability: 'strict',
      instance: 'gw',
      rotateSeconds: 0.05,
    });
    await trail.append('session', { event: 'start' });
    await new Promise((r) => setTimeout(r, 80));
    await trail.append('session', { event: 'end' });
    await trail.close();
    expect(await chainFiles(dir)).toEqual([
      'audit-gw-000000000001.jsonl',
      'audit-gw-000000000003.jsonl',
    ]);
    expect((await verifyAudit(dir)).ok).toBe(true);
  });

  it('continues the chain after a restart in a new file', async () => {
    const first = await openAuditTrail({ dir, durability: 'strict', instance: 'gw' });
    await first.append('gateway', { event: 'start' });
    await first.close();
    const second = await openAuditTrail({ dir, durability: 'strict', instance: 'gw' });
    await second.append('gateway', { event: 'start' });
    await second.close();
    const files = await chainFiles(dir);
    expect(files).toHaveLength(2);
    const opened = (await lines(join(dir, files[1]!)))[0]!;
    expect(opened).toMatchObject({ seq: 4, reason: 'open', previous_file: files[0] });
    const report = await verifyAudit(dir);
    expect(report.faults).toEqual([]);
    expect(report.records).toBe(6);
  });

  it('keeps separate chains per instance in one folder', async () => {
    const a = await openAuditTrail({ dir, durability: 'strict', instance: 'a' });
    const b = await openAuditTrail({ dir, durability: 'strict', instance: 'b' });
    await Promise.all([a.append('gateway', { x: 1 }), b.append('gateway', { x: 2 })]);
    await Promise.all([a.close(), b.close()]);
    const report = await verifyAudit(dir);
    expect(report.ok).toBe(true);
    expect(report.chains.map((c) => c.instance).sort()).toEqual(['a', 'b']);
  });
});

describe('argument checks', () => {
  it('refuses reserved field names and unknown kinds as misuse', async () => {
    const trail = await openAuditTrail({ dir, durability: 'strict', instance: 'gw' });
    await expect(trail.append('decision', { hash: 'x' })).rejects.toThrow(TypeError);
    await expect(trail.append('checkpoint', {})).rejects.toThrow(TypeError);
    await expect(trail.append('nope' as 'decision', {})).rejects.toThrow(TypeError);
    await trail.close();
    await expect(trail.append('decision', {})).rejects.toMatchObject({ code: 'ERR_AUDIT_WRITE' });
    await expect(openAuditTrail({ dir, durability: 'fast' as 'strict' })).rejects.toThrow(
      TypeError,
    );
  });
});

describe('signing key and timed checkpoints', () => {
  it('creates the key file with mode 0600 and loads the same key again', async () => {
    const file = join(dir, 'keys', 'audit.jwk');
    const created = await loadOrCreateSigningKey(file);
    const { stat } = await import('node:fs/promises');
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const loaded = await loadOrCreateSigningKey(file);
    expect(loaded.kid).toBe(created.kid);
    expect(loaded.publicJwk).toMatchObject({ kty: 'OKP', crv: 'Ed25519', alg: 'EdDSA' });
    expect(JSON.stringify(loaded.publicJwk)).not.toContain('"d"');
  });

  it('checkpoints records older than checkpointSeconds', async () => {
    const trail = await openAuditTrail({
      dir,
      durability: 'strict',
      instance: 'gw',
      checkpointSeconds: 0.05,
    });
    await trail.append('decision', { n: 1 });
    await new Promise((r) => setTimeout(r, 150));
    await trail.flush();
    const [file] = await chainFiles(dir);
    const records = await lines(join(dir, file!));
    expect(records.at(-1)).toMatchObject({ kind: 'checkpoint', reason: 'time', seq: 3 });
    await trail.close();
  });
});

describe('deferred sealing', () => {
  it('rejects fields with a cycle in strict mode and keeps the chain whole', async () => {
    const trail = await openAuditTrail({ dir, durability: 'strict', instance: 'gw' });
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    await expect(trail.append('decision', cyclic)).rejects.toThrow(TypeError);
    await trail.append('decision', { after: true });
    await trail.close();
    const [file] = await chainFiles(dir);
    const records = await lines(join(dir, file!));
    expect(records[1]).toMatchObject({ seq: 2, unserialisable: 'RangeError' });
    expect(records[2]).toMatchObject({ seq: 3, after: true });
    expect((await verifyAudit(dir)).ok).toBe(true);
  });
});

describe('one writer per chain', () => {
  it('refuses a second writer while the first runs, and takes over a dead one’s lock', async () => {
    const trailDir = join(dir, 'trail');
    const first = await openAuditTrail({ dir: trailDir, durability: 'batched', instance: 'gw1' });
    await first.append('decision', { statement: 's-1', outcome: 'allow' });
    const lockFile = join(trailDir, 'audit-gw1.lock');
    expect((await readFile(lockFile, 'utf8')).trim()).toBe(String(process.pid));

    // Another live process holds the lock: nothing is written, the chain stays whole.
    const other = spawn('sleep', ['30'], { stdio: 'ignore' });
    try {
      await first.close();
      await writeFile(lockFile, `${other.pid}\n`);
      const before = await readdir(trailDir);
      await expect(
        openAuditTrail({ dir: trailDir, durability: 'batched', instance: 'gw1' }),
      ).rejects.toThrow(new RegExp(`being written by process ${other.pid}`));
      expect(await readdir(trailDir)).toEqual(before);
      // Another instance name in the same folder is another chain, with its own lock.
      const second = await openAuditTrail({
        dir: trailDir,
        durability: 'batched',
        instance: 'gw2',
      });
      await second.close();
    } finally {
      other.kill();
      await once(other, 'exit');
    }

    // The holder is gone (as after kill -9): its lock is taken over.
    const reopened = await openAuditTrail({
      dir: trailDir,
      durability: 'batched',
      instance: 'gw1',
    });
    await reopened.append('decision', { statement: 's-2', outcome: 'allow' });
    await reopened.close();
    await expect(readFile(lockFile)).rejects.toThrow(/ENOENT/);
    expect((await verifyAudit(trailDir)).ok).toBe(true);
  });
});
