/**
 * Where sealed lines end up. The writer seals records in order and hands them to a destination
 * in groups; the destination makes each group durable before `write` resolves. A chain is cut
 * into segments (files for the file sink, a `segment` column for the PostgreSQL sink), each
 * opened by a checkpoint that names it.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { PgwardenError } from '../errors.js';

/** One sealed record, ready to be stored. */
export interface SealedLine {
  seq: number;
  kind: string;
  time: string;
  /** The record's canonical JSON with `hash` appended, and a newline, in UTF-8. */
  bytes: Buffer;
  /** The same as text, decoded when asked for (forwarding, the PostgreSQL sink). */
  readonly line: string;
  /** Start this segment before storing the line (the line is its opening checkpoint). */
  open?: { name: string; path: string };
}

/**
 * A sealed record as the writer makes it. The line waits for its group's write as bytes outside
 * the JavaScript heap rather than as a string, so the garbage collector does not copy waiting
 * lines from space to space, and the file sink writes them without encoding them again.
 */
export class SealedRecord implements SealedLine {
  open?: { name: string; path: string };

  constructor(
    readonly seq: number,
    readonly kind: string,
    readonly time: string,
    readonly bytes: Buffer,
  ) {}

  get line(): string {
    return this.bytes.toString('utf8');
  }
}

/** The storage behind the writer; see the file comment. */
export interface Destination {
  /** Starts a new segment (closing the previous one); `name` is its file name. */
  open(name: string, path: string): Promise<void>;
  /** Stores `lines` after the previous ones and makes them durable; returns the bytes stored. */
  write(lines: SealedLine[]): Promise<number>;
  /** Releases handles or connections; later writes fail. */
  close(): Promise<void>;
}

/** The file sink: one append-only file per segment, fdatasync'ed per group. */
export class FileDestination implements Destination {
  private fh: FileHandle | null = null;

  constructor(private readonly openPath?: (path: string) => string) {}

  async open(_name: string, path: string): Promise<void> {
    if (this.fh) {
      const old = this.fh;
      this.fh = null;
      try {
        await old.datasync();
      } finally {
        await old.close();
      }
    }
    const target = this.openPath ? this.openPath(path) : path;
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

  async write(lines: SealedLine[]): Promise<number> {
    if (!this.fh) throw writeError('audit trail has no open file');
    const bytes = await writeAll(this.fh, joinLines(lines));
    await this.fh.datasync();
    return bytes;
  }

  async close(): Promise<void> {
    // A handle that already failed may fail to close too; it is gone either way.
    if (this.fh) await this.fh.close().catch(() => undefined);
    this.fh = null;
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

/** The bytes of `lines`, one after the other: a group goes to storage in one write. */
export function joinLines(lines: SealedLine[]): Buffer {
  if (lines.length === 1) return lines[0]!.bytes;
  let size = 0;
  for (const l of lines) size += l.bytes.length;
  return Buffer.concat(
    lines.map((l) => l.bytes),
    size,
  );
}

/** Writes all of `data` to `fh` (a short write is continued); returns the bytes written. */
export async function writeAll(fh: FileHandle, data: Buffer): Promise<number> {
  let done = 0;
  while (done < data.length) {
    const { bytesWritten } = await fh.write(data, done, data.length - done);
    if (bytesWritten <= 0) throw writeError('audit write made no progress');
    done += bytesWritten;
  }
  return done;
}

/** The error every refused or failed append carries. */
export function writeError(message: string, cause?: unknown): PgwardenError {
  return new PgwardenError('ERR_AUDIT_WRITE', message, { cause });
}
