/**
 * Runs cases in worker threads so one case cannot stop the run: a case that loops past its
 * timeout has its worker terminated, a case that crashes its worker is recorded as a crash,
 * and in both cases a fresh worker takes over the rest of the queue. Output the module prints
 * (`opa_println`) in a worker is captured, never mixed into the report.
 */
import { Worker } from 'node:worker_threads';
import type { CaseResult, ConformanceCase } from './cases.js';

/** Messages a worker sends. */
export type WorkerMessage =
  { readonly type: 'ready' } | { readonly type: 'result'; readonly result: CaseResult };

/** Pool settings. */
export interface PoolOptions {
  /** The worker script (it answers `{case}` messages with `{type: 'result'}`). */
  readonly workerUrl: URL;
  /** Passed to each worker as `workerData`. */
  readonly workerData?: unknown;
  /** Parallel workers (at least 1). */
  readonly workers: number;
  /** Per-case time limit in milliseconds. */
  readonly timeoutMs: number;
  /** Time a new worker may take to load the toolchain. */
  readonly startupMs?: number;
  /** Start a fresh worker after this many cases, to bound memory growth. */
  readonly recycleAfter?: number;
  /** Called after each case, in completion order. */
  readonly onResult?: (r: CaseResult) => void;
}

/** Runs every case; resolves with results in the order of `cases`. */
export async function runInWorkers(
  cases: readonly ConformanceCase[],
  options: PoolOptions,
): Promise<CaseResult[]> {
  const results: Array<CaseResult | undefined> = new Array(cases.length);
  let next = 0;
  const slot = async (): Promise<void> => {
    while (next < cases.length) {
      const handle = await startWorker(options);
      let ran = 0;
      while (next < cases.length && ran < (options.recycleAfter ?? 200)) {
        const index = next++;
        const c = cases[index] as ConformanceCase;
        const r = handle.failed
          ? crashed(c, `worker failed to start: ${handle.failed}`, 'crash')
          : await handle.run(c);
        results[index] = r;
        options.onResult?.(r);
        ran++;
        if (handle.dead) break;
      }
      await handle.stop();
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, options.workers) }, slot));
  return results.map(
    (r, i) => r ?? crashed(cases[i] as ConformanceCase, 'not run', 'harness_error'),
  );
}

interface WorkerHandle {
  failed?: string;
  dead: boolean;
  run(c: ConformanceCase): Promise<CaseResult>;
  stop(): Promise<void>;
}

function crashed(
  c: ConformanceCase,
  reason: string,
  cause: 'crash' | 'timeout' | 'harness_error',
): CaseResult {
  return {
    id: c.id,
    category: c.category,
    note: c.note,
    status: 'fail',
    cause,
    reason,
    durationMs: 0,
  };
}

async function startWorker(options: PoolOptions): Promise<WorkerHandle> {
  const worker = new Worker(options.workerUrl, {
    workerData: options.workerData,
    stdout: true,
    stderr: true,
  });
  // Drain what the module prints so a chatty policy cannot block the worker.
  worker.stdout.resume();
  worker.stderr.resume();
  let pending: ((m: WorkerMessage | { type: 'exit'; reason: string }) => void) | undefined;
  const handle: WorkerHandle = {
    dead: false,
    run: (c) =>
      new Promise<CaseResult>((resolve) => {
        const started = performance.now();
        const timer = setTimeout(() => {
          handle.dead = true;
          pending = undefined;
          void worker.terminate();
          resolve({
            ...crashed(c, `timed out after ${options.timeoutMs} ms`, 'timeout'),
            durationMs: options.timeoutMs,
          });
        }, options.timeoutMs);
        pending = (m) => {
          clearTimeout(timer);
          pending = undefined;
          if (m.type === 'result') resolve(m.result);
          else {
            const r = crashed(
              c,
              `worker crashed: ${m.type === 'exit' ? m.reason : 'no result'}`,
              'crash',
            );
            resolve({ ...r, durationMs: Math.round(performance.now() - started) });
          }
        };
        worker.postMessage({ case: c });
      }),
    stop: async () => {
      handle.dead = true;
      await worker.terminate();
    },
  };
  worker.on('message', (m: WorkerMessage) => pending?.(m));
  worker.on('error', (err) => {
    handle.dead = true;
    pending?.({ type: 'exit', reason: err instanceof Error ? err.message : String(err) });
  });
  worker.on('exit', (code) => {
    handle.dead = true;
    pending?.({ type: 'exit', reason: `exit code ${code}` });
  });
  const ready = await new Promise<string | undefined>((resolve) => {
    const timer = setTimeout(() => resolve('startup timed out'), options.startupMs ?? 120_000);
    pending = (m) => {
      clearTimeout(timer);
      pending = undefined;
      resolve(m.type === 'ready' ? undefined : m.type === 'exit' ? m.reason : 'unexpected message');
    };
  });
  if (ready !== undefined) {
    handle.failed = ready;
    await worker.terminate();
  }
  return handle;
}
