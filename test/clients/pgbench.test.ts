// pgbench -S through the gateway in each query mode: no failed transactions, and the audit trail
// holds one execution record for every transaction pgbench counted.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CLI,
  readAudit,
  run,
  startDemoProcess,
  superuserEnv,
  waitFor,
  type AuditRecord,
  type DemoProcess,
} from './support/demo.js';

const SECONDS = Number(process.env.PGWARDEN_PGBENCH_SECONDS ?? 5);
const CLIENTS = 8;
const PGBENCH_SELECT = /^SELECT abalance FROM pgbench_accounts WHERE aid = /;

let demo: DemoProcess;

beforeAll(async () => {
  demo = await startDemoProcess();
  const admin = superuserEnv(demo);
  const init = await run('pgbench', ['-i', '-q', '-s', '1'], admin);
  expect(init.code, init.stderr).toBe(0);
  const grant = await run(
    'psql',
    [
      '-X',
      '-v',
      'ON_ERROR_STOP=1',
      '-c',
      'GRANT SELECT ON pgbench_accounts, pgbench_branches, pgbench_tellers TO pgwarden_gateway',
    ],
    admin,
  );
  expect(grant.code, grant.stderr).toBe(0);
});

afterAll(async () => {
  await demo?.stop();
});

/** Execution records of pgbench's select after `afterSeq`, joined to their decisions' text. */
function pgbenchExecutions(records: AuditRecord[], afterSeq: number): AuditRecord[] {
  const text = new Map<string, string>();
  for (const r of records) {
    const id = (r.decision as { id?: string } | undefined)?.id;
    if (r.kind === 'decision' && id) text.set(id, String(r.text ?? ''));
  }
  return records.filter(
    (r) =>
      r.seq > afterSeq &&
      r.kind === 'execution' &&
      r.error == null &&
      PGBENCH_SELECT.test(text.get(String(r.decision_id)) ?? ''),
  );
}

describe('pgbench -S through the gateway', () => {
  it.each(['simple', 'extended', 'prepared'])(
    '%s mode: no failed transactions, one execution record per transaction',
    async (mode) => {
      const before = await readAudit(demo);
      const lastSeq = before.at(-1)?.seq ?? 0;
      const out = await run(
        'pgbench',
        ['-n', '-S', '-M', mode, '-c', String(CLIENTS), '-j', '2', '-T', String(SECONDS)],
        await demo.env('etl'),
        SECONDS * 1000 + 60_000,
      );
      expect(out.code, out.stderr).toBe(0);
      const processed = Number(/actually processed: (\d+)/.exec(out.stdout)?.[1]);
      const failed = Number(/number of failed transactions: (\d+)/.exec(out.stdout)?.[1]);
      expect(processed).toBeGreaterThan(0);
      expect(failed).toBe(0);
      expect(out.stderr).not.toMatch(/error/i);

      // pgbench has disconnected; the trail's last records may still be on their way to disk.
      const executions = await waitFor(async () => {
        const found = pgbenchExecutions(await readAudit(demo), lastSeq);
        return found.length >= processed ? found : undefined;
      }, 15_000).catch(async () => pgbenchExecutions(await readAudit(demo), lastSeq));
      expect(executions).toHaveLength(processed);
      expect(new Set(executions.map((r) => r.command_tag))).toEqual(new Set(['SELECT 1']));
    },
  );

  it('leaves a trail that `pgwarden audit verify` accepts', async () => {
    const out = await run(
      process.execPath,
      [CLI, 'audit', 'verify', demo.info.audit_dir],
      process.env,
    );
    expect(out.code, out.stdout + out.stderr).toBe(0);
  });
});
