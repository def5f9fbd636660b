/**
 * The trail's file writer: an ordered queue of sealed lines, written and fsynced in groups. In
 * `strict` mode a write starts as soon as the event loop is free and every append queued while a
 * write and its fsync are in flight shares the next one (group commit). In `batched` mode the
 * queue is written and fsynced every `batchMs`. Any error stops the writer: queued lines are
 * dropped and their waiters rejected, and the trail decides when to try again.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { PgwardenError } from '../errors.js';

/** One line to write, in order. */
export interface WriteEntry {
  line: string;
  /** Also append this line to the second sink (checkpoints). */
  sink: boolean;
  /** Close the current file and open this path before writing the line. */
  openFile?: string;
  waiter?: { resolve: () => void; reject: (err: Error) => void };
}

/** Counters the trail exposes as metrics. */
export interface WriterCounters {
  records: number;
  bytes: number;
  fsyncs: number;
  /** Lines per write+fsync, of the last group. */
  lastGroup: number;
  lastFsyncMicros: number;
  failures: number;
  lost: number;
}

/** Options of {@link FileWriter}. */
export interface WriterOptions {
  durability: 'strict' | 'batched';
  batchMs: number;
  sinkPath?: string;
  /** Maps the path of a new file to the path actually opened; tests point it at /dev/full. */
  openPath?: (path: string) => string;
  /** Called once per failure, after the queue was dropped. */
  onFailure: (err: Error, lost: number) => void;
}

/** Writes the trail's lines in order; see the file comment. */
export class FileWriter {
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
  private fh: FileHandle | null = null;
  private sinkFh: FileHandle | null = null;
  private running: Promise<void> | null = null;
  private scheduled = false;
  private stopped = false;

  constructor(private readonly options: WriterOptions) {}

  /** True after a failure, until {@link reset}. */
  get failed(): boolean {
    return this.stopped;
  }

  /** Lines waiting to be written. */
  get queued(): number {
    return this.queue.length;
  }

  /** Queues a line; the waiter, if any, settles once it is written and fsynced. */
  enqueue(entry: WriteEntry): void {
    this.queue.push(entry);
    this.schedule();
  }

  /** Resolves once everything queued so far is written and fsynced; rejects after a failure. */
  async flush(): Promise<void> {
    while (this.queue.length > 0 || this.running) {
      if (this.stopped) break;
      await this.kick();
    }
    if (this.stopped) throw writeError('audit trail cannot write');
  }

  /** Clears the failed state so the trail can write again (its next line must open a file). */
  reset(): void {
    this.stopped = false;
  }

  /** Flushes and closes the files. */
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
      try {
        await this.writeGroup(group);
      } catch (err) {
        await this.fail(err as Error, group);
        return;
      }
      for (const entry of group) entry.waiter?.resolve();
    }
  }

  private async writeGroup(group: WriteEntry[]): Promise<void> {
    let chunk: string[] = [];
    let sinkChunk = '';
    for (const entry of group) {
      if (entry.openFile !== undefined) {
        if (chunk.length > 0) await this.writeOut(chunk.join(''));
        chunk = [];
        await this.switchFile(entry.openFile);
      }
      chunk.push(entry.line);
      if (entry.sink) sinkChunk += entry.line;
    }
    if (!this.fh) throw writeError('audit trail has no open file');
    await this.writeOut(chunk.join(''));
    const started = process.hrtime.bigint();
    await this.fh.datasync();
    if (sinkChunk && this.options.sinkPath !== undefined) {
      this.sinkFh ??= await open(this.options.sinkPath, 'a', 0o640);
      await writeAll(this.sinkFh, sinkChunk);
      await this.sinkFh.datasync();
    }
    this.counters.lastFsyncMicros = Number(process.hrtime.bigint() - started) / 1000;
    this.counters.fsyncs++;
    this.counters.records += group.length;
    this.counters.lastGroup = group.length;
  }

  private async writeOut(chunk: string): Promise<void> {
    if (!this.fh) throw writeError('audit trail has no open file');
    this.counters.bytes += await writeAll(this.fh, chunk);
  }

  private async switchFile(path: string): Promise<void> {
    if (this.fh) {
      const old = this.fh;
      this.fh = null;
      try {
        await old.datasync();
      } finally {
        await old.close();
      }
    }
    const target = this.options.openPath ? this.options.openPath(path) : path;
    const fh = await open(target, 'a', 0o640);
    const info = await fh.stat();
    if (info.isFile() && info.size > 0) {
      await fh.close();
      // Files are append-only per writer lifetime: never continue somebody else's file.
      throw writeError(`audit file ${path} already has content`);
    }
    this.fh = fh;
    // The new file's directory entry must survive a power loss too, or its records would.
    if (target === path) await syncDirectory(dirname(path));
  }

  private async fail(err: Error, group: WriteEntry[]): Promise<void> {
    this.stopped = true;
    const dropped = [...group, ...this.queue];
    this.queue = [];
    this.counters.failures++;
    this.counters.lost += dropped.length;
    const reason = writeError(`audit trail cannot write: ${describe(err)}`, err);
    for (const entry of dropped) entry.waiter?.reject(reason);
    await this.closeFiles();
    this.options.onFailure(err, dropped.length);
  }

  private async closeFiles(): Promise<void> {
    for (const fh of [this.fh, this.sinkFh]) {
      // A handle that already failed may fail to close too; it is gone either way.
      if (fh) await fh.close().catch(() => undefined);
    }
    this.fh = null;
    this.sinkFh = null;
  }
}

async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function writeAll(fh: FileHandle, text: string): Promise<number> {
  const data = Buffer.from(text, 'utf8');
  let done = 0;
  while (done < data.length) {
    const { bytesWritten } = await fh.write(data, done, data.length - done);
    if (bytesWritten <= 0) throw writeError('audit write made no progress');
    done += bytesWritten;
  }
  return done;
}

function describe(err: Error): string {
  const code = (err as NodeJS.ErrnoException).code;
  return code ? `${code} ${err.message}` : err.message;
}

/** The error every refused or failed append carries. */
export function writeError(message: string, cause?: unknown): PgwardenError {
  return new PgwardenError('ERR_AUDIT_WRITE', message, { cause });
}
