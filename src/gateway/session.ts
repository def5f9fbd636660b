/**
 * One client session: an authenticated client socket, its upstream connection, and the relay
 * between them. The two directions live in ClientFlow and ResponseFlow; this file wires sockets,
 * ordering, back-pressure and the end of the session.
 */
import { randomBytes } from 'node:crypto';
import type { Socket } from 'node:net';
import { isPgwardenError } from '../errors.js';
import { sessionDeadline } from '../identity/index.js';
import type { Logger } from '../logger.js';
import {
  authentication,
  AuthCode,
  backendKeyData,
  errorResponse,
  readyForQuery,
  terminateMessage,
  type MessageFramer,
  type WireMessage,
} from '../wire/index.js';
import type { CatalogLookup } from './catalog.js';
import { ClientFlow } from './client-flow.js';
import { StatementDecider, type SessionFacts } from './decisions.js';
import type { GatewayOptions } from './options.js';
import { ResponseFlow } from './response-flow.js';
import { ResultError, type RunContext } from './results.js';
import { ProtocolState } from './state.js';
import { cancelUpstream, type UpstreamConnection } from './upstream.js';
import { setRole } from './role.js';

/** PCI DSS 8.2.8: sessions idle longer than 15 minutes are closed. */
export const DEFAULT_IDLE_TIMEOUT_MS = 15 * 60_000;

/** Stop reading from the client while this many messages wait for a decision. */
const MAX_QUEUED_MESSAGES = 4096;
/** How often a session past its token's deadline checks whether its statement has finished. */
const EXPIRY_DRAIN_CHECK_MS = 50;

/** The client side of a session after the handshake. */
export interface ClientConnection {
  socket: Socket;
  framer: MessageFramer;
  pending: WireMessage[];
  /** 3.2 clients get a 32-byte cancel key, 3.0 clients 4 bytes. */
  protocolMinor: number;
}

/** `first` extended to `end` (a byte offset in the memory both are views of). */
function viewTo(first: Buffer, end: number): Buffer {
  if (first.byteOffset + first.length === end) return first;
  return Buffer.from(first.buffer, first.byteOffset, end - first.byteOffset);
}

/** A relaying session. */
export class Session {
  readonly state = new ProtocolState();
  readonly decider: StatementDecider;
  readonly runContext: RunContext;
  readonly processId: number;
  readonly secret: Buffer;
  private readonly clientFlow: ClientFlow;
  private readonly responses: ResponseFlow;
  private inbox: WireMessage[] = [];
  private inboxHead = 0;
  private busy = false;
  private upstreamOut: Buffer[] = [];
  private closed = false;
  /** The role assumed with SET ROLE at start; statements leaving it are refused. */
  assumedRole: string | undefined;
  private expiryTimer: NodeJS.Timeout | undefined;
  /** The identity's deadline has passed; the session ends at the next statement boundary. */
  private expired = false;
  private idleTimer: NodeJS.Timeout | undefined;
  /** Time of the last message from the client. */
  private lastActive = Date.now();
  private readonly startedAt = Date.now();
  /** Resolves when both sockets are closed. */
  readonly done: Promise<void>;
  private resolveDone!: () => void;

  constructor(
    readonly options: GatewayOptions,
    readonly facts: SessionFacts,
    private readonly client: ClientConnection,
    private readonly upstream: UpstreamConnection,
    readonly catalog: CatalogLookup,
    private readonly logger: Logger,
    processId: number,
  ) {
    this.processId = processId;
    this.secret = randomBytes(client.protocolMinor >= 2 ? 32 : 4);
    this.decider = new StatementDecider(options, facts, logger, (notice) =>
      this.sendClient([notice]),
    );
    this.runContext = { decider: this.decider, masker: options.masker, logger };
    this.clientFlow = new ClientFlow(this);
    this.responses = new ResponseFlow(this.state, {
      catalogChanged: () => {
        // Facts and cached decisions derived from the old catalog no longer apply anywhere.
        options.analyzer.invalidate?.(facts.upstreamDatabase);
        catalog.generation++;
      },
      pathUser: () => this.assumedRole ?? options.upstream.user,
      limitExceeded: (skipToSync) => {
        if (skipToSync) this.clientFlow.skipToSync = true;
        // After the rest of this chunk: when its ReadyForQuery is already in it, the statement
        // is over and a cancel could only hit the client's next one.
        queueMicrotask(() => {
          if (!this.responses.limitPending || this.closed) return;
          this.cancel().catch((err: unknown) => this.logger.warn({ err }, 'cancel failed'));
        });
      },
    });
    this.state.ready(upstream.status);
    this.state.scanRows = !!options.masker;
    this.state.clientEncoding = upstream.parameters.get('client_encoding') ?? 'UTF8';
    this.done = new Promise((resolve) => (this.resolveDone = resolve));
  }

  /** The upstream database this session uses (the catalog of its analysis). */
  get upstreamDatabase(): string {
    return this.facts.upstreamDatabase;
  }

  /** Greets the client as PostgreSQL would and starts relaying. */
  async start(): Promise<void> {
    const { socket } = this.client;
    const role = this.options.upstream.roleForGroups?.(this.facts.identity.groups);
    if (role) await setRole(this.upstream, role);
    this.assumedRole = role;
    await this.decider.audit('session', {
      event: 'start',
      client_addr: this.facts.clientAddr,
      tls: this.facts.tls,
      database: this.facts.database,
      user: this.facts.user,
      application_name: this.facts.applicationName,
      issuer: this.facts.identity.issuer,
      groups: this.facts.identity.groups,
      role: role ?? null,
    });
    socket.cork();
    socket.write(authentication(AuthCode.Ok));
    for (const status of this.upstream.parameterMessages) socket.write(status);
    socket.write(backendKeyData(this.processId, this.secret));
    socket.write(readyForQuery(this.state.status));
    process.nextTick(() => socket.uncork());
    if (this.options.enforcement === 'off') return this.relayBytes();

    socket.on('data', (chunk: Buffer) => this.onClientData(chunk));
    socket.on('error', (err) => this.logger.debug({ err }, 'client socket error'));
    socket.on('close', () => this.onClientClosed());
    this.upstream.socket.on('data', (chunk: Buffer) => this.onUpstreamData(chunk));
    this.upstream.socket.on('error', (err) => this.logger.debug({ err }, 'upstream error'));
    this.upstream.socket.on('close', () => this.onUpstreamClosed());
    socket.on('drain', () => this.upstream.socket.resume());
    this.upstream.socket.on('drain', () => socket.resume());
    this.inbox.push(...this.client.pending);
    this.relayUpstream(this.upstream.pending);
    socket.resume();
    this.upstream.socket.resume();
    this.watchExpiry();
    this.watchIdle();
    this.pump();
  }

  /**
   * Enforcement off (GatewayOptions.enforcement): every byte after login passes as it arrives,
   * with back-pressure both ways and no framing, as a measure of the relay alone.
   */
  private relayBytes(): void {
    const client = this.client.socket;
    const upstream = this.upstream.socket;
    const early = [...this.client.pending.map((m) => m.raw), this.client.framer.drain()];
    const late = [...this.upstream.pending.map((m) => m.raw), this.upstream.framer.drain()];
    client.on('data', (chunk: Buffer) => {
      this.lastActive = Date.now();
      if (!upstream.write(chunk)) client.pause();
    });
    upstream.on('data', (chunk: Buffer) => {
      if (!client.write(chunk)) upstream.pause();
    });
    client.on('drain', () => upstream.resume());
    upstream.on('drain', () => client.resume());
    client.on('error', (err) => this.logger.debug({ err }, 'client socket error'));
    upstream.on('error', (err) => this.logger.debug({ err }, 'upstream error'));
    client.on('close', () => this.onClientClosed());
    upstream.on('close', () => this.onUpstreamClosed());
    for (const bytes of early) if (bytes.length > 0) upstream.write(bytes);
    for (const bytes of late) if (bytes.length > 0) client.write(bytes);
    client.resume();
    upstream.resume();
    this.watchExpiry();
    this.watchIdle();
  }

  /**
   * Closes the session once the client has been silent for idleTimeoutMs with nothing in flight
   * (a long-running statement or a held approval is not idleness). Checked on a timer rather than
   * re-armed per message, which would cost a timer update on the hot path.
   */
  private watchIdle(): void {
    const limit = this.options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
    if (limit === 0) return;
    const check = (): void => {
      const idleFor = Date.now() - this.lastActive;
      if (this.closed) return;
      if (idleFor >= limit && this.state.slots.length === 0 && !this.busy) {
        this.decider
          .audit('session', { event: 'idle_timeout', idle_ms: idleFor })
          .catch((err: unknown) => this.logger.error({ err }, 'audit append failed'));
        return this.fatal('57P05', 'terminating connection due to idle-session timeout');
      }
      this.idleTimer = setTimeout(check, Math.max(limit - idleFor, 1_000));
      this.idleTimer.unref();
    };
    this.idleTimer = setTimeout(check, limit);
    this.idleTimer.unref();
  }

  /**
   * Ends the session when the identity's credential expires (plus the configured grace): it may
   * not outlive its token. A statement in flight finishes first; nothing new starts after the
   * deadline (see pump).
   */
  private watchExpiry(): void {
    const deadline = sessionDeadline(this.facts.identity, this.options.sessionGraceMs ?? 0);
    if (!deadline) return;
    // setTimeout holds at most 2^31-1 ms; re-check in steps for long-lived credentials.
    const wait = Math.min(deadline.getTime() - Date.now(), 2 ** 31 - 1);
    this.expiryTimer = setTimeout(
      () => {
        if (Date.now() < deadline.getTime()) return this.watchExpiry();
        this.expired = true;
        this.endIfExpired();
      },
      Math.max(wait, 0),
    );
    this.expiryTimer.unref();
  }

  /** After the deadline: ends the session once no statement is in flight, else checks again. */
  private endIfExpired(): boolean {
    if (!this.expired || this.closed) return false;
    if (!this.idle) {
      clearTimeout(this.expiryTimer);
      this.expiryTimer = setTimeout(() => this.endIfExpired(), EXPIRY_DRAIN_CHECK_MS);
      this.expiryTimer.unref();
      return false;
    }
    this.decider
      .audit('session', {
        event: 'token_expired',
        expires_at: this.facts.identity.expiresAt?.toISOString(),
        grace_ms: this.options.sessionGraceMs ?? 0,
      })
      .catch((err: unknown) => this.logger.error({ err }, 'audit append failed'));
    this.fatal('28000', 'the identity token expired; reconnect with a fresh token');
    return true;
  }

  /**
   * Cancels the statement in progress: one held for approval, or the upstream query (a
   * CancelRequest with the upstream backend's key).
   */
  cancel(): Promise<void> {
    // A statement held for approval has not reached upstream: cancelling ends the wait.
    this.decider.cancelHold?.();
    return cancelUpstream(this.options.upstream, this.upstream.processId, this.upstream.secret);
  }

  /** True while no statement is in flight, so a shutdown can end the session without loss. */
  get idle(): boolean {
    return this.state.slots.length === 0 && !this.busy;
  }

  /** Ends the session from the gateway side (shutdown). */
  shutdown(): void {
    this.fatal('57P01', 'terminating connection due to administrator command');
  }

  /** Sends to upstream in order; batched until the current pump step ends. */
  sendUpstream(message: Buffer): void {
    this.upstreamOut.push(message);
  }

  /** The client sent Terminate. */
  terminate(): void {
    this.flushUpstream();
    this.upstream.socket.end(terminateMessage());
    this.client.socket.end();
  }

  private onClientData(chunk: Buffer): void {
    this.lastActive = Date.now();
    try {
      this.client.framer.push(chunk, this.inbox);
    } catch (err) {
      return this.protocolFailure(err);
    }
    this.pump();
  }

  /** Handles queued client messages in order, waiting whenever a decision is pending. */
  private pump(): void {
    if (this.busy || this.closed) return;
    while (this.inboxHead < this.inbox.length) {
      // Past the token's deadline nothing new starts: the session ends between statements.
      if (this.expired && this.endIfExpired()) return;
      const msg = this.inbox[this.inboxHead++]!;
      let pending: void | Promise<void>;
      try {
        pending = this.clientFlow.handle(msg);
      } catch (err) {
        return this.protocolFailure(err);
      }
      if (pending) {
        this.busy = true;
        this.flushUpstream();
        if (this.inbox.length - this.inboxHead > MAX_QUEUED_MESSAGES) this.client.socket.pause();
        pending.then(
          () => {
            this.busy = false;
            this.pump();
          },
          (err: unknown) => {
            if (isPgwardenError(err, 'ERR_PROTOCOL')) return this.protocolFailure(err);
            this.logger.error({ err }, 'statement handling failed');
            this.fatal('XX000', 'internal error in pgwarden while deciding a statement');
          },
        );
        return;
      }
    }
    this.inbox = [];
    this.inboxHead = 0;
    this.flushUpstream();
    if (this.client.socket.isPaused() && !this.upstreamBlocked()) this.client.socket.resume();
  }

  private upstreamBlocked(): boolean {
    return this.upstream.socket.writableNeedDrain;
  }

  private flushUpstream(): void {
    const out = this.upstreamOut;
    if (out.length === 0 || this.closed) return;
    this.upstreamOut = [];
    const socket = this.upstream.socket;
    let ok: boolean;
    if (out.length === 1) ok = socket.write(out[0]!);
    else {
      socket.cork();
      for (const buf of out) socket.write(buf);
      socket.uncork();
      ok = !socket.writableNeedDrain;
    }
    // Back-pressure: stop reading the client until upstream takes the bytes.
    if (!ok) this.client.socket.pause();
  }

  private onUpstreamData(chunk: Buffer): void {
    const messages: WireMessage[] = [];
    try {
      this.upstream.framer.push(chunk, messages);
    } catch (err) {
      this.logger.warn({ err }, 'malformed upstream message');
      return this.fatal('08006', 'invalid message from the upstream server');
    }
    this.relayUpstream(messages);
  }

  private relayUpstream(messages: WireMessage[]): void {
    const out: Buffer[] = [];
    // Adjacent unchanged messages of one chunk go out as one view: no copy, one write. `run` is
    // the first of them and `runEnd` where the last ends, in the chunk both are views of.
    let run: Buffer | null = null;
    let runEnd = 0;
    for (const msg of messages) {
      let send: Buffer | null;
      try {
        send = this.responses.handle(msg);
      } catch (err) {
        if (run) out.push(viewTo(run, runEnd));
        if (out.length > 0) this.sendClient(out);
        if (err instanceof ResultError) return this.fatal(err.sqlstate, err.message, true);
        this.logger.error({ err }, 'response handling failed');
        return this.fatal('XX000', 'internal error in pgwarden while relaying a result', true);
      }
      if (!send) continue;
      if (run && run.buffer === send.buffer && runEnd === send.byteOffset) {
        runEnd += send.length;
        continue;
      }
      if (run) out.push(viewTo(run, runEnd));
      run = send;
      runEnd = send.byteOffset + send.length;
    }
    if (run) out.push(viewTo(run, runEnd));
    if (out.length > 0) this.sendClient(out);
  }

  private sendClient(buffers: Buffer[]): void {
    const socket = this.client.socket;
    if (this.closed || socket.destroyed) return;
    let ok = true;
    if (buffers.length === 1) ok = socket.write(buffers[0]!);
    else {
      socket.cork();
      for (const buf of buffers) socket.write(buf);
      socket.uncork();
      ok = !socket.writableNeedDrain;
    }
    if (!ok) this.upstream.socket.pause();
  }

  private protocolFailure(err: unknown): void {
    const sqlstate = (err as { sqlstate?: string }).sqlstate ?? '08P01';
    this.logger.info({ err }, 'client protocol violation');
    this.fatal(sqlstate, (err as Error).message);
  }

  /** Sends a FATAL error to the client and ends the session. */
  private fatal(code: string, message: string, cancelUpstream = false): void {
    if (this.closed) return;
    const socket = this.client.socket;
    if (!socket.destroyed) socket.end(errorResponse({ severity: 'FATAL', code, message }));
    this.close(cancelUpstream || this.state.slots.length > 0);
  }

  private onClientClosed(): void {
    // A client gone mid-query must not leave its query running upstream.
    this.close(this.state.slots.length > 0);
  }

  private onUpstreamClosed(): void {
    if (!this.closed) this.fatal('08006', 'connection to the upstream server was lost');
  }

  private close(cancel: boolean): void {
    if (this.closed) return;
    this.closed = true;
    // A statement held for approval has no upstream query to cancel: withdraw its request.
    this.decider.cancelHold?.();
    clearTimeout(this.expiryTimer);
    clearTimeout(this.idleTimer);
    const upstream = this.upstream.socket;
    const finish = () => {
      if (!upstream.destroyed) upstream.end(terminateMessage());
      setTimeout(() => upstream.destroy(), 5_000).unref();
    };
    if (cancel && !upstream.destroyed) this.cancel().finally(finish);
    else finish();
    const client = this.client.socket;
    setTimeout(() => client.destroy(), 5_000).unref();
    this.decider
      .audit('session', {
        event: 'end',
        duration_ms: Date.now() - this.startedAt,
        statements: this.decider.counts,
      })
      .catch((err: unknown) => this.logger.error({ err }, 'audit append failed'));
    let open = 2;
    const one = () => {
      if (--open === 0) this.resolveDone();
    };
    if (client.destroyed) one();
    else client.once('close', one);
    if (upstream.destroyed) one();
    else upstream.once('close', one);
  }
}
