// SIGTERM to a running gateway process: it stops accepting, lets the statement in flight finish
// within a bound, flushes and checkpoints the audit trail, and exits 0.
import { afterEach, describe, expect, it } from 'vitest';
import {
  CLI,
  readAudit,
  run,
  startDemoProcess,
  waitFor,
  type DemoProcess,
} from './support/demo.js';

let demo: DemoProcess | undefined;

afterEach(async () => {
  await demo?.stop();
  demo = undefined;
});

/** Sends SIGTERM and resolves with the exit code, or null if it did not exit within `ms`. */
async function terminate(d: DemoProcess, ms = 60_000): Promise<number | null> {
  d.child.kill('SIGTERM');
  return waitFor(() => (d.exited ? (d.exited.code ?? -1) : undefined), ms).catch(() => null);
}

describe('SIGTERM', () => {
  it('exits 0 with the audit trail closed by a stop record and verifiable', async () => {
    demo = await startDemoProcess();
    const read = await run(
      'psql',
      ['-X', '-At', '-c', 'SELECT brand FROM cards WHERE id = 1'],
      await demo.env('etl'),
    );
    expect(read.stdout.trim()).toBe('visa');

    expect(await terminate(demo)).toBe(0);
    const records = await readAudit(demo);
    const stop = records.findLastIndex((r) => r.kind === 'gateway' && r.event === 'stop');
    expect(stop).toBeGreaterThan(0);
    expect(records.slice(stop).some((r) => r.kind === 'checkpoint')).toBe(true);
    const verify = await run(process.execPath, [CLI, 'audit', 'verify', demo.info.audit_dir], {
      ...process.env,
    });
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);

    // Stopped means stopped: nothing listens on the gateway's port any more.
    const after = await run(
      'psql',
      ['-X', '-At', '-c', 'SELECT 1'],
      await demo.env('etl'),
      10_000,
    ).catch(() => ({ code: 2, stdout: '', stderr: 'failed' }));
    expect(after.code).not.toBe(0);
  });

  // Found by this suite: Gateway.close() ended every session at once with 57P01 instead of
  // waiting up to listen.shutdown_grace for the statement in flight.
  it('lets a statement in flight finish before exiting (regression: sessions were cut at once)', async () => {
    demo = await startDemoProcess();
    const slow = run(
      'psql',
      ['-X', '-At', '-c', 'SELECT pg_sleep(2), brand FROM cards WHERE id = 1'],
      await demo.env('etl'),
    );
    // Let the statement reach PostgreSQL before the signal.
    await new Promise((resolve) => setTimeout(resolve, 700));
    const exited = terminate(demo);
    const out = await slow;
    expect(out.stderr).toBe('');
    expect(out.stdout.trim()).toBe('|visa');
    expect(await exited).toBe(0);
  });
});
