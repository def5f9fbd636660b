// A bounded soak: pgbench -S through the gateway for five minutes (PGWARDEN_SOAK_SECONDS) while
// the policy bundle is swapped every 25 s (PGWARDEN_SOAK_SWAP_SECONDS), ten times or more.
// Afterwards no transaction failed, `audit verify` passes, every transaction pgbench counted has its execution
// record, the only other executions are pgbench's start-up queries, and decisions carry the
// revisions that were swapped in.
import { createReadStream } from 'node:fs';
import { readdir, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildBundle } from '../../src/rego/index.js';
import {
  CLI,
  ROOT,
  run,
  startDemoProcess,
  superuserEnv,
  type DemoProcess,
} from './support/demo.js';

const SECONDS = Number(process.env.PGWARDEN_SOAK_SECONDS ?? 300);
const SWAP_EVERY = Number(process.env.PGWARDEN_SOAK_SWAP_SECONDS ?? 25);
// Throttled, so five minutes stay a soak and not a disk-filling benchmark.
const RATE = Number(process.env.PGWARDEN_SOAK_TPS ?? 200);
const PGBENCH_SELECT = /^SELECT abalance FROM pgbench_accounts WHERE aid = /;

let demo: DemoProcess;

beforeAll(async () => {
  demo = await startDemoProcess();
  const admin = superuserEnv(demo);
  expect((await run('pgbench', ['-i', '-q', '-s', '1'], admin)).code).toBe(0);
  const grant = await run(
    'psql',
    ['-X', '-c', 'GRANT SELECT ON pgbench_accounts, pgbench_branches TO pgwarden_gateway'],
    admin,
  );
  expect(grant.code, grant.stderr).toBe(0);
});

afterAll(async () => {
  await demo?.stop();
});

/** Builds the shipped policy under a new revision, puts it in place and asks for a reload. */
async function swapBundle(revision: string): Promise<string> {
  const bundle = await buildBundle({
    paths: [path.join(ROOT, 'rego')],
    entrypoints: ['pgwarden/decision'],
    revision,
  });
  const file = demo.info.bundle.file;
  await writeFile(`${file}.next`, bundle);
  await rename(`${file}.next`, file);
  const res = await fetch(`${demo.info.http}/v1/bundles/reload`, {
    method: 'POST',
    headers: { authorization: `Bearer ${await demo.token('dba')}` },
  });
  const body = (await res.json()) as { active?: { revision?: string } };
  expect(res.status, JSON.stringify(body)).toBe(200);
  return body.active?.revision ?? '';
}

/** Counts, streaming the trail: pgbench executions, other executions, decision revisions. */
async function tally(): Promise<{ pgbench: number; other: string[]; revisions: Set<string> }> {
  const text = new Map<string, string>();
  const revisions = new Set<string>();
  let pgbench = 0;
  const other: string[] = [];
  const files = (await readdir(demo.info.audit_dir)).filter((f) => f.endsWith('.jsonl')).sort();
  for (const file of files) {
    const lines = createInterface({
      input: createReadStream(path.join(demo.info.audit_dir, file)),
    });
    for await (const line of lines) {
      if (!line) continue;
      const r = JSON.parse(line) as {
        kind: string;
        text?: string;
        decision_id?: string;
        error?: unknown;
        decision?: { id: string };
        bundle?: { revision: string };
      };
      if (r.kind === 'decision' && r.decision) {
        text.set(r.decision.id, r.text ?? '');
        if (r.bundle) revisions.add(r.bundle.revision);
      } else if (r.kind === 'execution' && r.error == null) {
        const statement = text.get(r.decision_id ?? '') ?? '';
        if (PGBENCH_SELECT.test(statement)) pgbench++;
        else other.push(statement);
      }
    }
  }
  return { pgbench, other, revisions };
}

describe('soak', () => {
  it(
    `pgbench -S for ${SECONDS}s with a bundle swap every ${SWAP_EVERY}s`,
    async () => {
      const bench = run(
        'pgbench',
        ['-n', '-S', '-c', '4', '-j', '2', '-R', String(RATE), '-T', String(SECONDS)],
        await demo.env('etl'),
        SECONDS * 1000 + 120_000,
      );
      const swapped: string[] = [];
      let done = false;
      void bench.finally(() => (done = true));
      const started = Date.now();
      for (let n = 1; ; n++) {
        await new Promise((resolve) => setTimeout(resolve, SWAP_EVERY * 1000));
        // A swap in pgbench's last seconds would have no decisions to show for it.
        if (done || Date.now() - started > (SECONDS - SWAP_EVERY / 2) * 1000) break;
        swapped.push(await swapBundle(`soak-${n}`));
      }
      await bench.catch(() => undefined);
      const out = await bench;
      expect(out.code, out.stderr).toBe(0);
      const processed = Number(/actually processed: (\d+)/.exec(out.stdout)?.[1]);
      expect(/number of failed transactions: (\d+)/.exec(out.stdout)?.[1]).toBe('0');
      expect(processed).toBeGreaterThan(SECONDS * RATE * 0.5);
      // Swaps stop half an interval before pgbench does; the default run swaps ten times or more.
      expect(swapped.length).toBeGreaterThanOrEqual(Math.floor(SECONDS / SWAP_EVERY) - 2);
      expect(swapped.length).toBeGreaterThan(0);
      expect(swapped).toEqual(swapped.map((_, i) => `soak-${i + 1}`));

      const verify = await run(process.execPath, [CLI, 'audit', 'verify', demo.info.audit_dir], {
        ...process.env,
      });
      expect(verify.code, verify.stdout + verify.stderr).toBe(0);

      const counted = await tally();
      expect(counted.pgbench).toBe(processed);
      // pgbench's own start-up queries: the scale from pgbench_branches and its catalog probe.
      expect(counted.other.length).toBeLessThanOrEqual(4);
      for (const statement of counted.other) {
        expect(statement).toMatch(/pgbench_branches|pg_catalog/);
      }
      for (const revision of swapped) expect(counted.revisions).toContain(revision);
    },
    SECONDS * 1000 + 300_000,
  );
});
