/**
 * The worker-thread side of the conformance pool: loads the real toolchain once, then answers
 * each `{case}` message with the case's result. A toolchain that fails to load turns every case
 * into a failure that names the reason, rather than a dead worker.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { loadToolchain } from '../testing/toolchain.js';
import type { ResultMode } from '../testing/evaluate.js';
import type { ConformanceCase } from './cases.js';
import { runCase } from './execute.js';
import type { WorkerMessage } from './pool.js';

const port = parentPort;
if (port) {
  const settings = (workerData ?? {}) as { mode?: ResultMode; strictMessages?: boolean };
  const mode = settings.mode ?? 'value';
  const judging = { strictMessages: settings.strictMessages === true };
  const tools = await loadToolchain(mode).catch((err: unknown) =>
    err instanceof Error ? err : new Error(String(err)),
  );
  port.on('message', (msg: { case: ConformanceCase }) => {
    const c = msg.case;
    const reply = (m: WorkerMessage): void => port.postMessage(m);
    if (tools instanceof Error) {
      reply({
        type: 'result',
        result: c.skip
          ? {
              id: c.id,
              category: c.category,
              note: c.note,
              status: 'skip',
              reason: c.skip,
              durationMs: 0,
            }
          : {
              id: c.id,
              category: c.category,
              note: c.note,
              status: 'fail',
              cause: 'harness_error',
              reason: `toolchain unavailable: ${tools.message}`,
              durationMs: 0,
            },
      });
      return;
    }
    void runCase(c, tools, judging).then((result) => reply({ type: 'result', result }));
  });
  port.postMessage({ type: 'ready' } satisfies WorkerMessage);
}
