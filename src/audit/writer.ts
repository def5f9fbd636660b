/**
 * The trail's writer: an ordered queue of records, sealed (serialised, scrubbed, hashed and
 * chained) and stored in groups. In batched mode sealing happens here, off the caller's
 * path: `append` only queues a record, and the queue is sealed in order at the end of the
 * event-loop turn; in strict mode each record is sealed as it is queued. Either way the chain
 * order is the queue order. In `strict` mode a group starts as soon as the
 * event loop is free and every append queued while a write is in flight shares the next one
 * (group commit). In `batched` mode the queue is sealed, written and synced every `batchMs`.
 * Any storage error stops the writer: queued records are dropped and their waiters rejected,
 * and the trail decides when to try again.
 */
import { open, type FileHandle } from 'node:fs/promises';
import type { PendingRecord } from './chain.js';
import {
  joinLines,
  writeAll,
  writeError,
  type Destination,
  type SealedLine,
} from './destination.js';

export { writeError } from './destination.js';

/** One record to seal and store, in order. */
export type WriteEntry = PendingRecord;

/** Counters the trail exposes as metrics. */
export interface WriterCounters {
  records: number;
  bytes: number;
  fsyncs: number;
  /** Records per write+sync, of the last group. */
  lastGroup: number;
  /** Time the last group spent in storage (write and sync), not in sealing. */
  lastFsyncMicros: number;
  failures: number;
  lost: number;
}

/** Options of {@link RecordWriter}. */
export interface WriterOptions {
  durability: 'strict' | 'batched';
  batchMs: number;
  destination: Destination;
  sinkPath?: string;
  /** Seals one entry (in queue order) into its lines (a rotation may come first). */
  seal: (entry: WriteEntry) => SealedLine[];
  /** Called with every group once it is durable (forwarding). */
  onStored?: (lines: SealedLine[]) => void;
  /** Called once per failure, after the queue was dropped. */
  onFailure: (err: Error, lost: number) => void;
}

/** Seals and stores the trail's records in order; see the file comment. */
export class RecordWriter {
  readonly counters: WriterCounters = {
    records: 0,
    bytes: 0,
    fsyncs: 0,
    lastGroup: 0,
    lastFsyncMicros: 0,
    failures: 0,
    lost: 0,
  };
  private queue: WriteEntry[] = [];
  /** Entries of `queue` before this index are sealed already. */
  private sealedUpTo = 0;
  private sealScheduled = false;
  private sinkFh: FileHandle | null = null;
  private running: Promise<void> | null = null;
  private scheduled = false;
  private stopped = false;

  constructor(private readonly options: WriterOptions) {}

  /** True after a failure, until {@link reset}. */
  get failed(): boolean {
    return this.stopped;
  }

  /** Records waiting to be stored. */
  get queued(): number {
    return this.queue.length;
  }

  /** Queues a record; the waiter, if any, settles once it is stored. */
  enqueue(entry: WriteEntry): void {
    this.queue.push(entry);
    this.schedule();
    // In strict mode the caller waits for the sync anyway, so the record is sealed now, as the
    // caller's objects are at hand and the work overlaps any sync in flight. Batched mode seals
    // at the end of the current turn of the event loop instead: the caller returns at once, and
    // its objects still die young rather than surviving into the old generation, as they would
    // if they waited the few milliseconds until their group is written.
    if (this.options.durability === 'strict') {
      this.sealQueued();
    } else if (!this.sealScheduled) {
      this.sealScheduled = true;
      setImmediate(() => {
        this.sealScheduled = false;
        this.sealQueued();
      });
    }
  }

  private sealQueued(): void {
    if (this.stopped) return;
    for (; this.sealedUpTo < this.queue.length; this.sealedUpTo++) {
      const entry = this.queue[this.sealedUpTo]!;
      entry.sealed = this.options.seal(entry);
    }
  }

  /** Resolves once everything queued so far is stored; rejects after a failure. */
  async flush(): Promise<void> {
    while (this.queue.length > 0 || this.running) {
      if (this.stopped) break;
      await this.kick();
    }
    if (this.stopped) throw writeError('audit trail cannot write');
  }

  /** Clears the failed state so the trail can write again (its next record opens a segment). */
  reset(): void {
    this.stopped = false;
  }

  /** Flushes and closes the destination and the checkpoint sink. */
  async close(): Promise<void> {
    try {
      if (!this.stopped) await this.flush();
    } finally {
      await this.closeFiles();
    }
  }

  private schedule(): void {
    if (this.scheduled || this.stopped) return;
    this.scheduled = true;
    const go = (): void => {
      this.scheduled = false;
      void this.kick();
    };
    if (this.options.durability === 'strict') setImmediate(go);
    else setTimeout(go, this.options.batchMs).unref();
  }

  private kick(): Promise<void> {
    this.running ??= this.run().finally(() => {
      this.running = null;
      if (this.queue.length > 0 && !this.stopped) this.schedule();
    });
    return this.running;
  }

  private async run(): Promise<void> {
    while (this.queue.length > 0 && !this.stopped) {
      const group = this.queue;
      this.queue = [];
      this.sealedUpTo = 0;
      let lines: SealedLine[];
      try {
        lines = await this.writeGroup(group);
      } catch (err) {
        await this.fail(err as Error, group);
        return;
      }
      for (const entry of group) entry.waiter?.resolve();
      this.options.onStored?.(lines);
    }
  }

  private async writeGroup(group: WriteEntry[]): Promise<SealedLine[]> {
    const dest = this.options.destination;
    const all: SealedLine[] = [];
    let chunk: SealedLine[] = [];
    const sinkChunk: SealedLine[] = [];
    let storing = 0n;
    const store = async (lines: SealedLine[]): Promise<void> => {
      const t0 = process.hrtime.bigint();
      this.counters.bytes += await dest.write(lines);
      storing += process.hrtime.bigint() - t0;
    };
    for (const entry of group) {
      for (const sealed of entry.sealed ?? this.options.seal(entry)) {
        if (sealed.open !== undefined) {
          if (chunk.length > 0) await store(chunk);
          chunk = [];
          await dest.open(sealed.open.name, sealed.open.path);
        }
        chunk.push(sealed);
        all.push(sealed);
        if (sealed.kind === 'checkpoint') sinkChunk.push(sealed);
      }
    }
    await store(chunk);
    const t1 = process.hrtime.bigint();
    if (sinkChunk.length > 0 && this.options.sinkPath !== undefined) {
      this.sinkFh ??= await open(this.options.sinkPath, 'a', 0o640);
      await writeAll(this.sinkFh, joinLines(sinkChunk));
      await this.sinkFh.datasync();
    }
    storing += process.hrtime.bigint() - t1;
    this.counters.lastFsyncMicros = Number(storing) / 1000;
    this.counters.fsyncs++;
    this.counters.records += all.length;
    this.counters.lastGroup = all.length;
    return all;
  }

  private async fail(err: Error, group: WriteEntry[]): Promise<void> {
    this.stopped = true;
    const dropped = [...group, ...this.queue];
    this.queue = [];
    this.sealedUpTo = 0;
    this.counters.failures++;
    this.counters.lost += dropped.length;
    const reason = writeError(`audit trail cannot write: ${describe(err)}`, err);
    for (const entry of dropped) entry.waiter?.reject(reason);
    await this.closeFiles();
    this.options.onFailure(err, dropped.length);
  }

  private async closeFiles(): Promise<void> {
    await this.options.destination.close().catch(() => undefined);
    if (this.sinkFh) await this.sinkFh.close().catch(() => undefined);
    this.sinkFh = null;
  }
}

function describe(err: Error): string {
  const code = (err as NodeJS.ErrnoException).code;
  return code ? `${code} ${err.message}` : err.message;
}
