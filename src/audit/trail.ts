/**
 * The audit trail: turns `append(kind, fields)` into sealed, chained records, decides when to
 * rotate files and when to checkpoint, and recovers after a write failure. The chain state
 * (sequence number, previous hash) advances synchronously inside `append`, so records are chained
 * in exactly the order the calls were made, whatever the writer is doing.
 */
import { hostname } from 'node:os';
import { join } from 'node:path';
import { mkdir } from 'node:fs/promises';
import { PgwardenError } from '../errors.js';
import { silentLogger, type Logger } from '../logger.js';
import { chainFileName, listChains, fileInstance, readLines } from './files.js';
import {
  publishJwks,
  signCompact,
  toSigningKey,
  type JsonWebKeySet,
  type SigningKey,
  type SigningKeyInput,
} from './keys.js';
import { GENESIS_HASH, isAuditRecord, RESERVED_FIELDS, sealRecord } from './record.js';
import type { AuditKind, AuditSink } from './types.js';
import { FileWriter, writeError, type WriteEntry } from './writer.js';

/** Options of {@link openAuditTrail}; every option but `dir` and `durability` has a default. */
export interface AuditTrailOptions {
  /** Folder of the trail; created if missing. */
  dir: string;
  /** `strict`: append resolves after fsync (group commit). `batched`: fsync every `batchMs`. */
  durability: 'strict' | 'batched';
  /** Name of this gateway's chain. Default: the host name. */
  instance?: string;
  /** Start a new file past this size. Default 64 MiB. */
  rotateBytes?: number;
  /** Start a new file when the current one is this old. Default 86400 (a day). */
  rotateSeconds?: number;
  /** Checkpoint after this many records. Default 1000. */
  checkpointEvery?: number;
  /** Checkpoint records older than this many seconds. Default 60. */
  checkpointSeconds?: number;
  /** Ed25519 private key for checkpoint signatures. Without it checkpoints are unsigned. */
  signingKey?: SigningKeyInput | SigningKey;
  /** `kid` of the key in the JWKS. Default: its RFC 7638 thumbprint. */
  keyId?: string;
  /** A second file that receives a copy of every checkpoint. */
  checkpointSink?: string;
  /** Write interval in `batched` mode, in milliseconds. Default 5. */
  batchMs?: number;
  /** In `batched` mode, appends wait for the writer once this many records are queued. */
  maxQueued?: number;
  /** How often to try writing again after a failure, in milliseconds. Default 1000. */
  retryMs?: number;
  logger?: Logger;
  /** For tests: maps the path of each new file to the path really opened (e.g. /dev/full). */
  openPath?: (path: string) => string;
}

/** Counters for metrics. */
export interface AuditStats {
  /** Last sequence number assigned. */
  seq: number;
  records: number;
  bytes: number;
  fsyncs: number;
  lastGroup: number;
  lastFsyncMicros: number;
  checkpoints: number;
  failures: number;
  /** Records dropped by failures (rejected appends, and in batched mode acknowledged ones). */
  lost: number;
  queued: number;
  failed: boolean;
  file: string | null;
}

const CALLER_KINDS: ReadonlySet<string> = new Set<AuditKind>([
  'gateway',
  'session',
  'auth',
  'decision',
  'execution',
  'response',
  'approval',
  'bundle',
]);

type CheckpointReason = 'open' | 'rotate' | 'recover' | 'count' | 'time' | 'close' | 'manual';

/** Where a chain stands on disk. */
interface ChainHead {
  seq: number;
  hash: string;
  file: string | null;
}

/** Finds the last complete record of this instance's chain in `dir`. */
async function readHead(dir: string, instance: string): Promise<ChainHead> {
  const files = (await listChains(dir)).get(fileInstance(instance)) ?? [];
  for (let i = files.length - 1; i >= 0; i--) {
    const file = files[i]!;
    const { lines } = await readLines(file.path);
    const last = lines[lines.length - 1];
    if (!last) continue;
    let record: unknown;
    try {
      record = JSON.parse(last.text);
    } catch {
      record = undefined;
    }
    if (!isAuditRecord(record)) {
      throw writeError(`cannot continue the chain: the last record of ${file.name} is unreadable`);
    }
    return { seq: record.seq, hash: record.hash, file: file.name };
  }
  return { seq: 0, hash: GENESIS_HASH, file: null };
}

/** An open audit trail; see the file comment. */
export class AuditTrail implements AuditSink {
  private seq: number;
  private prev: string;
  private fileName: string | null;
  private fileBytes = 0;
  private fileOpenedAt = 0;
  private sinceCheckpoint = 0;
  private checkpoints = 0;
  private recovering = false;
  private lastTime = 0;
  private lastIso = '';
  private closed = false;
  private readonly writer: FileWriter;
  private readonly timers: NodeJS.Timeout[] = [];
  private retryTimer: NodeJS.Timeout | null = null;
  private readonly logger: Logger;
  private readonly instance: string;
  private readonly rotateBytes: number;
  private readonly rotateMs: number;
  private readonly checkpointEvery: number;
  private readonly maxQueued: number;

  /** Use {@link openAuditTrail}. */
  constructor(
    private readonly options: AuditTrailOptions,
    head: ChainHead,
    private readonly key: SigningKey | null,
    private readonly keySet: JsonWebKeySet,
  ) {
    this.logger = options.logger ?? silentLogger;
    this.instance = options.instance ?? hostname();
    this.rotateBytes = options.rotateBytes ?? 64 * 1024 * 1024;
    this.rotateMs = (options.rotateSeconds ?? 86_400) * 1000;
    this.checkpointEvery = options.checkpointEvery ?? 1000;
    this.maxQueued = options.maxQueued ?? 10_000;
    this.seq = head.seq;
    this.prev = head.hash;
    this.fileName = head.file;
    this.writer = new FileWriter({
      durability: options.durability,
      batchMs: options.batchMs ?? 5,
      sinkPath: options.checkpointSink,
      openPath: options.openPath,
      onFailure: (err, lost) => this.onFailure(err, lost),
    });
    const every = (options.checkpointSeconds ?? 60) * 1000;
    const timer = setInterval(() => {
      if (this.sinceCheckpoint > 0 && !this.failed) this.addCheckpoint('time');
    }, every);
    timer.unref();
    this.timers.push(timer);
  }

  /** True while records cannot be written; appends are refused meanwhile. */
  get failed(): boolean {
    return this.writer.failed || this.recovering;
  }

  /**
   * Appends a record. In strict mode it resolves once the record is fsynced; in batched mode at
   * once. Rejects with ERR_AUDIT_WRITE while the trail cannot write, and with a TypeError for a
   * kind or field name the trail does not accept.
   */
  append(kind: AuditKind, fields: Record<string, unknown>): Promise<void> {
    if (this.closed) return Promise.reject(writeError('audit trail is closed'));
    if (this.failed) return Promise.reject(writeError('audit trail cannot write'));
    if (!CALLER_KINDS.has(kind)) {
      return Promise.reject(new TypeError(`audit kind ${String(kind)} is not accepted`));
    }
    if (typeof fields !== 'object' || fields === null || Array.isArray(fields)) {
      return Promise.reject(new TypeError('audit fields must be an object'));
    }
    for (const name of Object.keys(fields)) {
      if (RESERVED_FIELDS.has(name)) {
        return Promise.reject(new TypeError(`audit field ${name} is reserved for the trail`));
      }
    }
    const now = Date.now();
    if (this.fileBytes >= this.rotateBytes || now - this.fileOpenedAt >= this.rotateMs) {
      this.startFile('rotate', {});
    }
    const promise = this.push(kind, fields, false, undefined, now);
    if (++this.sinceCheckpoint >= this.checkpointEvery) this.addCheckpoint('count');
    return promise;
  }

  /** Resolves once every record appended so far is on disk and fsynced. */
  async flush(): Promise<void> {
    if (this.failed) throw writeError('audit trail cannot write');
    await this.writer.flush();
  }

  /** Writes a checkpoint now and waits until it is on disk. */
  async checkpoint(): Promise<void> {
    if (this.closed || this.failed) throw writeError('audit trail cannot write');
    this.addCheckpoint('manual');
    await this.writer.flush();
  }

  /** The public keys that verify this trail's checkpoints (this key and earlier ones). */
  jwks(): JsonWebKeySet {
    return { keys: this.keySet.keys.map((k) => ({ ...k })) };
  }

  /** Counters for metrics. */
  stats(): AuditStats {
    const c = this.writer.counters;
    return {
      seq: this.seq,
      records: c.records,
      bytes: c.bytes,
      fsyncs: c.fsyncs,
      lastGroup: c.lastGroup,
      lastFsyncMicros: c.lastFsyncMicros,
      checkpoints: this.checkpoints,
      failures: c.failures,
      lost: c.lost,
      queued: this.writer.queued,
      failed: this.failed,
      file: this.fileName,
    };
  }

  /** Writes a closing checkpoint, flushes and closes. Later appends are refused. */
  async close(): Promise<void> {
    if (this.closed) return;
    for (const t of this.timers) clearInterval(t);
    if (this.retryTimer) clearTimeout(this.retryTimer);
    if (!this.failed && this.sinceCheckpoint > 0) this.addCheckpoint('close');
    this.closed = true;
    await this.writer.close();
  }

  /** Opens the first file of this writer's lifetime. */
  async start(reason: 'open' | 'recover', extra: Record<string, unknown>): Promise<void> {
    this.startFile(reason, extra);
    await this.writer.flush();
  }

  private push(
    kind: string,
    fields: Record<string, unknown>,
    sink: boolean,
    openFile: string | undefined,
    now = Date.now(),
  ): Promise<void> {
    const seq = this.seq + 1;
    const own = { seq, time: this.isoTime(now), kind, instance: this.instance, prev: this.prev };
    const { hash, line } = sealRecord(fields, own);
    this.seq = seq;
    this.prev = hash;
    // Characters, not bytes: rotation only needs to be about right, and this is the hot path.
    this.fileBytes += line.length;
    const entry: WriteEntry = { line, sink, openFile };
    // Batched mode acknowledges at once, unless the writer has fallen this far behind: then the
    // caller waits like in strict mode, so a burst cannot grow the queue without bound.
    if (this.options.durability === 'batched' && this.writer.queued < this.maxQueued) {
      this.writer.enqueue(entry);
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      entry.waiter = { resolve, reject };
      this.writer.enqueue(entry);
    });
  }

  /** ISO time of `now`, formatted once per millisecond. */
  private isoTime(now: number): string {
    if (now !== this.lastTime) {
      this.lastTime = now;
      this.lastIso = new Date(now).toISOString();
    }
    return this.lastIso;
  }

  /**
   * A checkpoint covers the record before it: the signature is over that record's sequence
   * number and hash, the checkpoint's time and the instance.
   */
  private checkpointFields(reason: CheckpointReason, now: number): Record<string, unknown> {
    const fields: Record<string, unknown> = { reason };
    if (this.key) {
      fields.signature = signCompact(this.key, {
        seq: this.seq,
        hash: this.prev,
        time: this.isoTime(now),
        instance: this.instance,
      });
    }
    return fields;
  }

  private addCheckpoint(reason: CheckpointReason): void {
    const now = Date.now();
    void this.push('checkpoint', this.checkpointFields(reason, now), true, undefined, now).catch(
      () => undefined, // the failure is handled and logged by onFailure
    );
    this.sinceCheckpoint = 0;
    this.checkpoints++;
  }

  /** Queues a checkpoint that opens a new file and names the previous one. */
  private startFile(reason: CheckpointReason, extra: Record<string, unknown>): void {
    const now = Date.now();
    const name = chainFileName(this.instance, this.seq + 1);
    const fields = {
      ...extra,
      ...this.checkpointFields(reason, now),
      file: name,
      previous_file: this.fileName,
    };
    this.fileName = name;
    this.fileBytes = 0;
    this.fileOpenedAt = now;
    const opened = this.push('checkpoint', fields, true, join(this.options.dir, name), now);
    void opened.catch(() => undefined);
    this.sinceCheckpoint = 0;
    this.checkpoints++;
  }

  private onFailure(err: Error, lost: number): void {
    this.logger.error(
      { err: { code: (err as NodeJS.ErrnoException).code, message: err.message }, lost },
      'audit trail cannot write; statements are refused until it recovers',
    );
    this.scheduleRetry((err as NodeJS.ErrnoException).code ?? 'error', lost);
  }

  private scheduleRetry(failure: string, lost: number): void {
    if (this.closed) return;
    this.recovering = true;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      void this.recover(failure, lost);
    }, this.options.retryMs ?? 1000);
    this.retryTimer.unref();
  }

  private async recover(failure: string, lost: number): Promise<void> {
    if (this.closed) return;
    try {
      // Continue from what is really on disk: lines written before the failure count, lines
      // that never made it are gone (their appends were rejected).
      const head = await readHead(this.options.dir, this.instance);
      this.seq = head.seq;
      this.prev = head.hash;
      this.fileName = head.file;
      this.writer.reset();
      await this.start('recover', { failure, lost });
    } catch (err) {
      // Still failing: onFailure has already scheduled the next attempt when the writer failed.
      if (!this.retryTimer) {
        this.logger.error({ err: String(err) }, 'audit trail cannot resume its chain');
        this.scheduleRetry(failure, lost);
      }
      return;
    }
    this.recovering = false;
    this.logger.warn({ seq: this.seq }, 'audit trail writes again');
  }
}

/**
 * Opens (or continues) the trail in `options.dir`: finds the chain's last record, publishes the
 * public key, and starts a new file that links to the previous one.
 */
export async function openAuditTrail(options: AuditTrailOptions): Promise<AuditTrail> {
  if (options.durability !== 'strict' && options.durability !== 'batched') {
    throw new TypeError(`audit durability must be strict or batched`);
  }
  for (const name of ['rotateBytes', 'rotateSeconds', 'checkpointEvery', 'checkpointSeconds']) {
    const v = options[name as keyof AuditTrailOptions];
    if (v !== undefined && !(typeof v === 'number' && v > 0)) {
      throw new TypeError(`audit option ${name} must be a positive number`);
    }
  }
  await mkdir(options.dir, { recursive: true });
  let key: SigningKey | null = null;
  let keySet: JsonWebKeySet = { keys: [] };
  if (options.signingKey) {
    const given = options.signingKey as SigningKey;
    key =
      given.privateKey && given.publicJwk
        ? given
        : await toSigningKey(options.signingKey as SigningKeyInput, options.keyId);
    keySet = await publishJwks(options.dir, key);
  }
  const instance = options.instance ?? hostname();
  const head = await readHead(options.dir, instance);
  const trail = new AuditTrail({ ...options, instance }, head, key, keySet);
  try {
    await trail.start('open', {});
  } catch (err) {
    await trail.close().catch(() => undefined);
    throw new PgwardenError('ERR_AUDIT_WRITE', `cannot open the audit trail in ${options.dir}`, {
      cause: err,
    });
  }
  return trail;
}
