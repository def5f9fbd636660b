/**
 * Opens the audit trail the configuration describes: files in `audit.dir` or a PostgreSQL
 * table (`sink: postgres`), checkpoint signing, retention at each new file, and forwarding of
 * every stored record to the configured SIEM targets. This is what the gateway assembly calls.
 */
import path from 'node:path';
import type { Config } from '../config/index.js';
import { secretSource } from '../config/secrets.js';
import { silentLogger, type Logger } from '../logger.js';
import type { SealedLine } from './destination.js';
import { Forwarder, type ForwarderOptions, type ForwardStats } from './forward.js';
import { loadOrCreateSigningKey, type JsonWebKeySet } from './keys.js';
import { openPostgresAuditStore, type PostgresStore } from './postgres.js';
import { applyRetention } from './retention.js';
import { openAuditTrail, type AuditStats, type AuditTrail } from './trail.js';
import type { AuditKind, AuditSink } from './types.js';

/** The `audit` section of a validated configuration. */
export type AuditConfig = Config['audit'];

/** Context {@link openAuditSink} needs beside the section. */
export interface AuditSinkContext {
  /** The chain's name (`instance_id`). */
  instance: string;
  /** Where the signing key lives when `signing_key_file` is not set. */
  stateDir: string;
  logger?: Logger;
  env?: NodeJS.ProcessEnv;
  /** Settings of the forwarding queues (defaults in forward.ts). */
  forwarding?: ForwarderOptions;
  /** How long `close` waits for forwarding queues to drain, in milliseconds. Default 2000. */
  forwardCloseMs?: number;
}

/** The opened trail with its forwarding and retention; see {@link openAuditSink}. */
export class OpenedAuditSink implements AuditSink {
  private retention: Promise<void> | null = null;
  private retentionAgain = false;

  /** Use {@link openAuditSink}. */
  constructor(
    readonly trail: AuditTrail,
    private readonly forwarder: Forwarder | null,
    private readonly store: PostgresStore | null,
    private readonly retain: (() => Promise<unknown>) | null,
    private readonly logger: Logger,
    private readonly forwardCloseMs = 2000,
  ) {}

  /** See {@link AuditTrail.append}. */
  append(kind: AuditKind, fields: Record<string, unknown>): Promise<void> {
    return this.trail.append(kind, fields);
  }

  /** True while the trail cannot write; statements are refused meanwhile. */
  get failed(): boolean {
    return this.trail.failed;
  }

  /** Resolves once everything appended is stored. */
  flush(): Promise<void> {
    return this.trail.flush();
  }

  /** Public keys of the checkpoint signatures. */
  jwks(): JsonWebKeySet {
    return this.trail.jwks();
  }

  /** Counters of the trail, for metrics. */
  stats(): AuditStats {
    return this.trail.stats();
  }

  /** Counters per forwarding target. */
  forwardStats(): ForwardStats[] {
    return this.forwarder?.stats() ?? [];
  }

  /** Called with each stored group: forwards it, and runs retention after a new file. */
  stored(lines: SealedLine[]): void {
    this.forwarder?.push(lines);
    if (this.retain && lines.some((l) => l.open !== undefined)) this.runRetention();
  }

  /** Runs retention now (after the current pass, if one is running). */
  async applyRetention(): Promise<void> {
    this.runRetention();
    while (this.retention) await this.retention;
  }

  private runRetention(): void {
    if (this.retention) {
      this.retentionAgain = true;
      return;
    }
    this.retention = (async () => {
      do {
        this.retentionAgain = false;
        await this.retain!().catch((err: unknown) =>
          this.logger.error({ err: String(err) }, 'audit retention failed'),
        );
      } while (this.retentionAgain);
    })().finally(() => {
      this.retention = null;
    });
  }

  /** Closes the trail (closing checkpoint), then forwards what is left and disconnects. */
  async close(): Promise<void> {
    while (this.retention) await this.retention;
    await this.trail.close();
    await this.forwarder?.close(this.forwardCloseMs);
    await this.store?.close();
  }
}

/**
 * Opens the configured sink. With `sink: postgres` the DSN comes from `dsn_env` or `dsn_file`;
 * the JWKS file and the signing key stay on local storage. Retention applies to the file sink
 * only (the PostgreSQL role cannot delete; see docs/audit.md).
 */
export async function openAuditSink(
  audit: AuditConfig,
  context: AuditSinkContext,
): Promise<OpenedAuditSink> {
  const logger = context.logger ?? silentLogger;
  const env = context.env ?? process.env;
  const dir = audit.dir ?? path.join(context.stateDir, 'audit');
  const forwarder =
    audit.forward.length > 0
      ? new Forwarder(
          audit.forward.map((t) => ({
            url: t.url,
            bearerToken: t.bearer_token_env ? env[t.bearer_token_env] : undefined,
            caFile: t.ca_file,
          })),
          { logger, ...context.forwarding },
        )
      : null;
  const store =
    audit.sink === 'postgres'
      ? await openPostgresAuditStore({
          dsn: secretSource(
            { name: 'audit sink DSN', env: audit.dsn_env, file: audit.dsn_file },
            env,
          )(),
        })
      : null;
  let sink: OpenedAuditSink | null = null;
  const early: SealedLine[][] = [];
  const trail = await openAuditTrail({
    dir,
    durability: audit.durability,
    instance: context.instance,
    rotateBytes: audit.rotate_bytes,
    rotateSeconds: audit.rotate_seconds,
    checkpointEvery: audit.checkpoint_every,
    checkpointSeconds: audit.checkpoint_seconds,
    checkpointSink: audit.checkpoint_sink,
    batchMs: audit.batch_interval,
    signingKey: await loadOrCreateSigningKey(
      audit.signing_key_file ?? path.join(context.stateDir, 'audit-signing-key.json'),
    ),
    store: store ?? undefined,
    logger,
    // The first group is stored while opening, before `sink` exists.
    onStored: (lines) => (sink ? sink.stored(lines) : early.push(lines)),
  }).catch(async (err: unknown) => {
    await store?.close();
    throw err;
  });
  const retain = store
    ? null
    : () =>
        applyRetention(trail, {
          dir,
          instance: context.instance,
          days: audit.retention_days,
          logger,
        });
  sink = new OpenedAuditSink(trail, forwarder, store, retain, logger, context.forwardCloseMs);
  for (const lines of early) sink.stored(lines);
  return sink;
}
