/**
 * The chain's state and the sealing of records, run by the writer for each group in queue
 * order: numbering, linking to the previous hash, signing checkpoints, serialising with card
 * numbers masked, and starting a new segment (file) when the current one is too big or too old.
 * Doing this on the writer's side, once per group, keeps it off the path of each statement.
 */
import { join } from 'node:path';
import type { Logger } from '../logger.js';
import { SealedRecord, type SealedLine } from './destination.js';
import { chainFileName } from './files.js';
import { signCompact, type SigningKey } from './keys.js';
import { sealRecord } from './record.js';

/** Why a checkpoint was written. */
export type CheckpointReason =
  'open' | 'rotate' | 'recover' | 'count' | 'time' | 'close' | 'manual' | 'retention';

/** Where a chain stands in its storage. */
export interface ChainHead {
  seq: number;
  hash: string;
  /** Name of the segment (file) holding the last record. */
  file: string | null;
}

/** One record waiting to be sealed. */
export interface PendingRecord {
  kind: string;
  time: string;
  fields: Record<string, unknown>;
  /** Starts a new segment with a checkpoint for this reason (`fields` are its extra fields). */
  opens?: CheckpointReason;
  waiter?: { resolve: () => void; reject: (err: Error) => void };
  /** Set once sealed. */
  sealed?: SealedLine[];
}

/** Settings of a {@link ChainSealer}. */
export interface SealerOptions {
  instance: string;
  dir: string;
  rotateBytes: number;
  rotateMs: number;
  key: SigningKey | null;
  logger: Logger;
}

/** Seals records in order; see the file comment. */
export class ChainSealer {
  seq: number;
  private prev: string;
  /** The current segment's name. */
  file: string | null;
  private fileBytes = 0;
  private fileOpenedAt = 0;

  constructor(
    private readonly options: SealerOptions,
    head: ChainHead,
  ) {
    this.seq = head.seq;
    this.prev = head.hash;
    this.file = head.file;
  }

  /** Continues from what storage holds (after a failure). */
  reset(head: ChainHead): void {
    this.seq = head.seq;
    this.prev = head.hash;
    this.file = head.file;
  }

  /** Seals `entry`, preceded by a rotation checkpoint when the segment is full or old. */
  seal(entry: PendingRecord): SealedLine[] {
    if (entry.opens !== undefined) return [this.open(entry.opens, entry.fields, entry.time)];
    const out: SealedLine[] = [];
    const full = this.fileBytes >= this.options.rotateBytes;
    if (full || Date.now() - this.fileOpenedAt >= this.options.rotateMs) {
      out.push(this.open('rotate', {}, entry.time));
    }
    out.push(this.sealOne(entry));
    return out;
  }

  /** A checkpoint that opens a new segment and names the one before. */
  private open(reason: CheckpointReason, extra: Record<string, unknown>, time: string) {
    const name = chainFileName(this.options.instance, this.seq + 1);
    const fields = { ...extra, reason, file: name, previous_file: this.file };
    this.file = name;
    this.fileBytes = 0;
    this.fileOpenedAt = Date.now();
    const line = this.sealOne({ kind: 'checkpoint', time, fields });
    line.open = { name, path: join(this.options.dir, name) };
    return line;
  }

  private sealOne(entry: PendingRecord): SealedLine {
    const seq = this.seq + 1;
    const own = {
      seq,
      time: entry.time,
      kind: entry.kind,
      instance: this.options.instance,
      prev: this.prev,
    };
    let fields = entry.fields;
    if (entry.kind === 'checkpoint' && this.options.key) {
      // A checkpoint covers the record before it: its seq and hash, this time and instance.
      const claims = { seq: seq - 1, hash: this.prev, time: entry.time, instance: own.instance };
      fields = { ...fields, signature: signCompact(this.options.key, claims) };
    }
    let sealed: { hash: string; bytes: Buffer };
    try {
      sealed = sealRecord(fields, own);
    } catch (err) {
      // A cycle in the caller's fields: keep the sequence, record that the fields were lost.
      sealed = sealRecord({ unserialisable: (err as Error).name }, own);
      this.reject(entry, new TypeError('audit fields are not serialisable', { cause: err }));
    }
    this.seq = seq;
    this.prev = sealed.hash;
    this.fileBytes += sealed.bytes.length;
    return new SealedRecord(seq, entry.kind, entry.time, sealed.bytes);
  }

  private reject(entry: PendingRecord, reason: Error): void {
    const waiter = entry.waiter;
    if (waiter) entry.waiter = { resolve: () => waiter.reject(reason), reject: waiter.reject };
    else this.options.logger.error({ err: reason.message }, 'audit record lost its fields');
  }
}
