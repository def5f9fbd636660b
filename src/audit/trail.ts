/**
 * The audit trail: turns `append(kind, fields)` into queued records, decides when to
 * checkpoint, and recovers after a write failure. `append` only validates and queues; the
 * writer seals the queue in order (chain.ts numbers, links, signs, serialises and rotates), so
 * records are chained in exactly the order the calls were made.
 */
import { hostname } from 'node:os';
import { mkdir, open, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { PgwardenError } from '../errors.js';
import { silentLogger, type Logger } from '../logger.js';
import { listChains, fileInstance, readLines } from './files.js';
import { ChainSealer, type ChainHead, type CheckpointReason } from './chain.js';
import {
  publishJwks,
  toSigningKey,
  type JsonWebKeySet,
  type SigningKey,
  type SigningKeyInput,
} from './keys.js';
import { FileDestination, type Destination, type SealedLine } from './destination.js';
import { GENESIS_HASH, isAuditRecord, RESERVED_FIELDS } from './record.js';
import type { AuditKind, AuditSink } from './types.js';

export type { ChainHead } from './chain.js';
import { RecordWriter, writeError, type WriteEntry } from './writer.js';

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
  /** Where records are stored instead of files in `dir` (the PostgreSQL sink). */
  store?: TrailStore;
  /** Receives every group of records once it is durable (forwarding, retention). */
  onStored?: (lines: SealedLine[]) => void;
}

/** A storage for the chain other than files: where it stands, and where records go. */
export interface TrailStore {
  /** The last stored record of `instance`'s chain. */
  readHead(instance: string): Promise<ChainHead>;
  /** Opens segments and stores records. */
  destination: Destination;
  /** A readable name of the store for messages (never a password). */
  describe: string;
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

/** What a batched append returns: one settled promise shared by all, not one per record. */
const ACKNOWLEDGED: Promise<void> = Promise.resolve();

/** Finds the last complete record of this instance's chain in `dir`. */
export async function readHead(dir: string, instance: string): Promise<ChainHead> {
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
  private sinceCheckpoint = 0;
  private checkpoints = 0;
  private recovering = false;
  private lastTime = 0;
  private lastIso = '';
  private closed = false;
  private readonly sealer: ChainSealer;
  private readonly writer: RecordWriter;
  private readonly timers: NodeJS.Timeout[] = [];
  private retryTimer: NodeJS.Timeout | null = null;
  private readonly logger: Logger;
  private readonly instance: string;
  private readonly checkpointEvery: number;
  private readonly maxQueued: number;

  /** Use {@link openAuditTrail}. */
  constructor(
    private readonly options: AuditTrailOptions,
    head: ChainHead,
    key: SigningKey | null,
    private readonly keySet: JsonWebKeySet,
    private readonly unlock: (() => Promise<void>) | null = null,
  ) {
    this.logger = options.logger ?? silentLogger;
    this.instance = options.instance ?? hostname();
    this.checkpointEvery = options.checkpointEvery ?? 1000;
    this.maxQueued = options.maxQueued ?? 10_000;
    this.sealer = new ChainSealer(
      {
        instance: this.instance,
        dir: options.dir,
        rotateBytes: options.rotateBytes ?? 64 * 1024 * 1024,
        rotateMs: (options.rotateSeconds ?? 86_400) * 1000,
        key,
        logger: this.logger,
      },
      head,
    );
    this.writer = new RecordWriter({
      durability: options.durability,
      batchMs: options.batchMs ?? 5,
      destination: options.store?.destination ?? new FileDestination(options.openPath),
      sinkPath: options.checkpointSink,
      seal: (entry) => this.sealer.seal(entry),
      onStored: options.onStored,
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
   * Appends a record. In strict mode it resolves once the record is stored and synced; in
   * batched mode at once. Rejects with ERR_AUDIT_WRITE while the trail cannot write, and with a
   * TypeError for a kind or field name the trail does not accept. The record is serialised
   * after this returns (by the writer, within `batchMs`): the caller must not change `fields`
   * or anything it references afterwards.
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
    for (const name in fields) {
      if (RESERVED_FIELDS.has(name) && Object.hasOwn(fields, name)) {
        return Promise.reject(new TypeError(`audit field ${name} is reserved for the trail`));
      }
    }
    const promise = this.push({ kind, time: this.isoTime(Date.now()), fields });
    if (++this.sinceCheckpoint >= this.checkpointEvery) this.addCheckpoint('count');
    return promise;
  }

  /** Resolves once every record appended so far is stored and synced. */
  async flush(): Promise<void> {
    if (this.failed) throw writeError('audit trail cannot write');
    await this.writer.flush();
  }

  /** Writes a checkpoint now and waits until it is stored. */
  async checkpoint(): Promise<void> {
    if (this.closed || this.failed) throw writeError('audit trail cannot write');
    this.addCheckpoint('manual');
    await this.writer.flush();
  }

  /**
   * Writes a checkpoint with `fields` (e.g. what retention removed) and waits until it is
   * stored, so the note is durable before the action it announces.
   */
  async note(reason: 'retention', fields: Record<string, unknown>): Promise<void> {
    if (this.closed || this.failed) throw writeError('audit trail cannot write');
    const time = this.isoTime(Date.now());
    const done = this.push({ kind: 'checkpoint', time, fields: { ...fields, reason } });
    this.sinceCheckpoint = 0;
    this.checkpoints++;
    await done;
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
      seq: this.sealer.seq,
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
      file: this.sealer.file,
    };
  }

  /** Writes a closing checkpoint, flushes and closes. Later appends are refused. */
  async close(): Promise<void> {
    if (this.closed) return;
    for (const t of this.timers) clearInterval(t);
    if (this.retryTimer) clearTimeout(this.retryTimer);
    if (!this.failed && this.sinceCheckpoint > 0) this.addCheckpoint('close');
    this.closed = true;
    try {
      await this.writer.close();
    } finally {
      await this.unlock?.();
    }
  }

  /** Opens the first segment of this writer's lifetime. */
  async start(reason: 'open' | 'recover', extra: Record<string, unknown>): Promise<void> {
    const time = this.isoTime(Date.now());
    void this.push({ kind: 'checkpoint', time, fields: extra, opens: reason }).catch(() => {});
    this.sinceCheckpoint = 0;
    this.checkpoints++;
    await this.writer.flush();
  }

  /** Queues a record; see writer.ts for when it is sealed. */
  private push(entry: WriteEntry): Promise<void> {
    // Batched mode acknowledges at once, unless the writer has fallen this far behind: then the
    // caller waits like in strict mode, so a burst cannot grow the queue without bound.
    if (this.options.durability === 'batched' && this.writer.queued < this.maxQueued) {
      this.writer.enqueue(entry);
      return ACKNOWLEDGED;
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

  private addCheckpoint(reason: CheckpointReason): void {
    const entry = { kind: 'checkpoint', time: this.isoTime(Date.now()), fields: { reason } };
    // A failure is handled and logged by onFailure.
    void this.push(entry).catch(() => undefined);
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
      // Continue from what is really stored: records written before the failure count, those
      // that never made it are gone (their appends were rejected).
      const head = this.options.store
        ? await this.options.store.readHead(this.instance)
        : await readHead(this.options.dir, this.instance);
      this.sealer.reset(head);
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
    this.logger.warn({ seq: this.sealer.seq }, 'audit trail writes again');
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
  // A file trail has one writer: a second gateway (or a second start of the same one) on the
  // same folder and instance name would fork the chain.
  const unlock = options.store ? null : await lockTrail(options.dir, instance);
  try {
    return await openLocked(options, instance, key, keySet, unlock);
  } catch (err) {
    await unlock?.();
    throw err;
  }
}

async function openLocked(
  options: AuditTrailOptions,
  instance: string,
  key: SigningKey | null,
  keySet: JsonWebKeySet,
  unlock: (() => Promise<void>) | null,
): Promise<AuditTrail> {
  const head = options.store
    ? await options.store.readHead(instance)
    : await readHead(options.dir, instance);
  const trail = new AuditTrail({ ...options, instance }, head, key, keySet, unlock);
  try {
    await trail.start('open', {});
  } catch (err) {
    await trail.close().catch(() => undefined);
    const where = options.store?.describe ?? options.dir;
    throw new PgwardenError('ERR_AUDIT_WRITE', `cannot open the audit trail in ${where}`, {
      cause: err,
    });
  }
  return trail;
}

/**
 * Takes the writer's lock of `instance`'s chain in `dir`: a file holding the writer's process id,
 * created exclusively. A lock left by a process that no longer runs (a crash, kill -9) is taken
 * over; one held by a live process refuses the open. Returns the release.
 */
async function lockTrail(dir: string, instance: string): Promise<() => Promise<void>> {
  const file = path.join(dir, `audit-${fileInstance(instance)}.lock`);
  for (;;) {
    try {
      const handle = await open(file, 'wx');
      try {
        await handle.writeFile(`${process.pid}\n`);
      } finally {
        await handle.close();
      }
      return () => rm(file, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const holder = Number((await readFile(file, 'utf8').catch(() => '')).trim());
    if (holder > 0 && holder !== process.pid && isRunning(holder)) {
      throw new PgwardenError(
        'ERR_AUDIT_WRITE',
        `the audit trail of instance ${instance} in ${dir} is being written by process ` +
          `${holder}; each instance name has one writer (give each gateway its own ` +
          '`instance_id`, or stop the other one)',
      );
    }
    await rm(file, { force: true });
  }
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
