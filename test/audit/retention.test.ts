import { mkdtemp, readdir, readFile, rm, utimes } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openAuditSink, verifyAudit, type AuditConfig } from '../../src/audit/index.js';

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pgw-audit-ret-'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function auditConfig(trail: string): AuditConfig {
  return {
    dir: trail,
    sink: 'file',
    signing_key_file: join(dir, 'key.jwk'),
    durability: 'strict',
    batch_interval: 5,
    rotate_bytes: 64 * 1024 * 1024,
    rotate_seconds: 86_400,
    checkpoint_every: 1000,
    checkpoint_seconds: 60,
    record_rows: { databases: [], identities: [], max_bytes: 65_536 },
    retention_days: 30,
    forward: [],
  };
}

async function chainFiles(trail: string): Promise<string[]> {
  return (await readdir(trail)).filter((f) => f.endsWith('.jsonl')).sort();
}

describe('audit retention', () => {
  it('removes expired files at a new file, after a checkpoint naming them', async () => {
    const trail = join(dir, 'trail');
    // Three lifetimes of the gateway: three files.
    for (let run = 0; run < 3; run++) {
      const sink = await openAuditSink(auditConfig(trail), { instance: 'gw1', stateDir: dir });
      for (let i = 0; i < 3; i++) await sink.append('decision', { run, i });
      await sink.close();
    }
    const [first, second, third] = await chainFiles(trail);
    const old = new Date(Date.now() - 40 * 86_400_000);
    const recent = new Date(Date.now() - 10 * 86_400_000);
    await utimes(join(trail, first!), old, old);
    await utimes(join(trail, second!), recent, recent);
    await utimes(join(trail, third!), old, old);

    // The next start opens a file and applies retention: only the oldest file goes, because
    // a file is removed only together with every file before it.
    const sink = await openAuditSink(auditConfig(trail), { instance: 'gw1', stateDir: dir });
    await sink.applyRetention();
    await sink.append('decision', { run: 3 });
    await sink.close();
    const files = await chainFiles(trail);
    expect(files).toEqual([second, third, files[2]]);

    const current = await readFile(join(trail, files[2]!), 'utf8');
    const note = current
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .find((r) => r.reason === 'retention');
    expect(note).toMatchObject({
      kind: 'checkpoint',
      removed: [first],
      removed_through_seq: 5,
      retention_days: 30,
    });

    const report = await verifyAudit(trail);
    expect(report.faults).toEqual([]);
    expect(report.warnings.join('\n')).toContain(`continues ${first}`);
  });

  it('never removes the file being written', async () => {
    const trail = join(dir, 'trail');
    const sink = await openAuditSink(auditConfig(trail), { instance: 'gw1', stateDir: dir });
    await sink.append('decision', { n: 1 });
    await sink.flush();
    const [only] = await chainFiles(trail);
    const old = new Date(Date.now() - 400 * 86_400_000);
    await utimes(join(trail, only!), old, old);
    await sink.applyRetention();
    await sink.close();
    expect(await chainFiles(trail)).toEqual([only]);
  });
});
