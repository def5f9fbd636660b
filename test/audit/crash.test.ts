import { spawn } from 'node:child_process';
import { readdir, readFile, rm, writeFile, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openAuditTrail, verifyAudit } from '../../src/audit/index.js';
import { compileAudit } from './support/compile.js';

let build: string;
let dir: string;

// The child appends decision records from 16 concurrent "sessions" in strict mode and prints
// the id of each statement whose decision record was acknowledged (the moment the gateway
// would forward it to PostgreSQL).
const CHILD = `
import { openAuditTrail } from './audit/index.js';
const trail = await openAuditTrail({
  dir: process.argv[2], durability: 'strict', instance: 'gw', checkpointEvery: 50,
  rotateBytes: 20000,
});
let n = 0;
async function session(s) {
  for (;;) {
    const id = 's' + s + '-' + n++;
    await trail.append('decision', { statement: id, text: 'SELECT 1', outcome: 'allow' });
    process.stdout.write(id + '\\n');
    void trail.append('execution', { statement: id, command_tag: 'SELECT 1' }).catch(() => {});
  }
}
for (let s = 0; s < 16; s++) void session(s);
`;

beforeAll(async () => {
  build = await compileAudit();
  await writeFile(join(build, 'child.mjs'), CHILD);
  dir = await mkdtemp(join(tmpdir(), 'pgw-crash-'));
}, 120_000);

afterAll(async () => {
  await rm(build, { recursive: true, force: true });
  await rm(dir, { recursive: true, force: true });
});

describe('crash (kill -9 under load)', () => {
  it('leaves a trail that verifies and holds every acknowledged decision', async () => {
    const child = spawn(process.execPath, [join(build, 'child.mjs'), dir], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const acked: string[] = [];
    let buffered = '';
    await new Promise<void>((resolve, reject) => {
      child.on('error', reject);
      child.on('exit', (code) => reject(new Error(`child exited early with ${code}`)));
      child.stdout.on('data', (data: Buffer) => {
        buffered += data.toString();
        const lines = buffered.split('\n');
        buffered = lines.pop()!;
        acked.push(...lines);
        if (acked.length >= 1500) {
          child.removeAllListeners('exit');
          child.kill('SIGKILL');
          child.on('exit', () => resolve());
        }
      });
    });

    const report = await verifyAudit(dir);
    expect(report.faults).toEqual([]);
    expect(report.files).toBeGreaterThan(1);

    const files = (await readdir(dir)).filter((f) => f.endsWith('.jsonl'));
    const text = (await Promise.all(files.map((f) => readFile(join(dir, f), 'utf8')))).join('');
    const recorded = new Set(
      text
        .split('\n')
        .filter((l) => l.includes('"decision"'))
        .map((l) => (JSON.parse(l) as { statement: string }).statement),
    );
    const missing = acked.filter((id) => !recorded.has(id));
    expect(missing).toEqual([]);

    // A restart continues the chain from what is on disk.
    const trail = await openAuditTrail({ dir, durability: 'strict', instance: 'gw' });
    await trail.append('gateway', { event: 'start' });
    await trail.close();
    const after = await verifyAudit(dir);
    expect(after.faults).toEqual([]);
    expect(after.chains[0]?.lastSeq).toBeGreaterThan(report.chains[0]!.lastSeq!);
  }, 120_000);
});
