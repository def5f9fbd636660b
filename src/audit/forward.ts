/**
 * Forwarding to a SIEM: every record, once stored, is also sent to each configured target, as
 * JSON lines POSTed in batches (`http://`, `https://`) or as RFC 5424 syslog messages over TCP
 * or TLS with octet-counting framing (RFC 6587) (`syslog://`, `syslog+tls://`). Forwarding never
 * holds a statement: records wait in a bounded queue per target, a failed batch is retried with
 * backoff, and what cannot be sent is dropped, counted and logged. The trail itself stays the
 * evidence; the copy is for monitoring.
 */
import { readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP, connect as netConnect, type Socket } from 'node:net';
import { hostname } from 'node:os';
import { connect as tlsConnect } from 'node:tls';
import { silentLogger, type Logger } from '../logger.js';
import type { SealedLine } from './destination.js';

/** One forwarding target, as in the `audit.forward` configuration. */
export interface ForwardTarget {
  url: string;
  /** Bearer token for HTTP targets (read by the caller from `bearer_token_env`). */
  bearerToken?: string;
  /** PEM file of the CA that signs the target's certificate (https, syslog+tls). */
  caFile?: string;
}

/** Options of {@link Forwarder}; all have defaults. */
export interface ForwarderOptions {
  logger?: Logger;
  /** Records kept per target while it is slow or down; newer ones are dropped past it. */
  maxQueue?: number;
  /** Records per HTTP POST or syslog write. Default 500. */
  batchSize?: number;
  /** Attempts per batch before it is dropped. Default 5. */
  attempts?: number;
  /** First retry delay in milliseconds, doubled each time up to 5 s. Default 200. */
  backoffMs?: number;
  /** Per-request timeout in milliseconds. Default 5000. */
  timeoutMs?: number;
}

/** Counters per target, for metrics and tests. */
export interface ForwardStats {
  url: string;
  sent: number;
  dropped: number;
  failures: number;
  queued: number;
}

interface Sender {
  send(lines: SealedLine[]): Promise<void>;
  close(): void;
}

/** Redacts credentials from a URL before it is logged or reported. */
function safeUrl(url: string): string {
  const u = new URL(url);
  u.username = '';
  u.password = '';
  u.search = '';
  return u.toString();
}

class TargetQueue {
  readonly stats: ForwardStats;
  private queue: SealedLine[] = [];
  private busy: Promise<void> | null = null;
  private overflowLogged = false;

  constructor(
    private readonly send: Sender,
    url: string,
    private readonly options: Required<Omit<ForwarderOptions, 'logger'>>,
    private readonly logger: Logger,
  ) {
    this.stats = { url: safeUrl(url), sent: 0, dropped: 0, failures: 0, queued: 0 };
  }

  push(lines: SealedLine[]): void {
    const room = this.options.maxQueue - this.queue.length;
    if (room < lines.length) {
      this.stats.dropped += lines.length - Math.max(0, room);
      if (!this.overflowLogged) {
        this.overflowLogged = true;
        this.logger.warn({ target: this.stats.url }, 'audit forwarding queue full; dropping');
      }
    }
    for (let i = 0; i < lines.length && i < room; i++) this.queue.push(lines[i]!);
    this.stats.queued = this.queue.length;
    this.busy ??= this.drain().finally(() => {
      this.busy = null;
    });
  }

  async idle(): Promise<void> {
    while (this.busy) await this.busy;
  }

  close(): void {
    this.send.close();
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, this.options.batchSize);
      this.stats.queued = this.queue.length;
      await this.sendWithRetries(batch);
    }
    this.overflowLogged = false;
  }

  private async sendWithRetries(batch: SealedLine[]): Promise<void> {
    let delay = this.options.backoffMs;
    for (let attempt = 1; ; attempt++) {
      try {
        await this.send.send(batch);
        this.stats.sent += batch.length;
        return;
      } catch (err) {
        this.stats.failures++;
        const message = (err as Error).message;
        if (attempt >= this.options.attempts) {
          this.stats.dropped += batch.length;
          this.logger.error(
            { target: this.stats.url, err: message, records: batch.length },
            'audit forwarding failed; batch dropped',
          );
          return;
        }
        this.logger.warn({ target: this.stats.url, err: message, attempt }, 'audit forward retry');
        await new Promise((r) => setTimeout(r, delay).unref());
        delay = Math.min(delay * 2, 5000);
      }
    }
  }
}

/** Sends stored records to every target; see the file comment. */
export class Forwarder {
  private readonly targets: TargetQueue[];

  constructor(targets: ForwardTarget[], options: ForwarderOptions = {}) {
    const logger = options.logger ?? silentLogger;
    const settings = {
      maxQueue: options.maxQueue ?? 100_000,
      batchSize: options.batchSize ?? 500,
      attempts: options.attempts ?? 5,
      backoffMs: options.backoffMs ?? 200,
      timeoutMs: options.timeoutMs ?? 5000,
    };
    this.targets = targets.map(
      (t) => new TargetQueue(sender(t, settings.timeoutMs), t.url, settings, logger),
    );
  }

  /** Queues stored records for every target; never waits. */
  push(lines: SealedLine[]): void {
    for (const t of this.targets) t.push(lines);
  }

  /** Resolves once every queue is empty (sent or dropped). */
  async idle(): Promise<void> {
    await Promise.all(this.targets.map((t) => t.idle()));
  }

  /** Waits up to `waitMs` for the queues to empty, then closes connections. */
  async close(waitMs = 2000): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((r) => (timer = setTimeout(r, waitMs)));
    await Promise.race([this.idle(), timeout]);
    clearTimeout(timer);
    for (const t of this.targets) t.close();
  }

  /** Counters per target. */
  stats(): ForwardStats[] {
    return this.targets.map((t) => ({ ...t.stats }));
  }
}

function sender(target: ForwardTarget, timeoutMs: number): Sender {
  const url = new URL(target.url);
  const ca = target.caFile ? readFileSync(target.caFile) : undefined;
  if (url.protocol === 'http:' || url.protocol === 'https:') {
    return {
      send: (lines) => postLines(url, lines, target.bearerToken, ca, timeoutMs),
      close: () => undefined,
    };
  }
  if (url.protocol === 'syslog:' || url.protocol === 'syslog+tls:') {
    const connection = new SyslogConnection(url, url.protocol === 'syslog+tls:', ca, timeoutMs);
    return { send: connection.sender(), close: () => connection.close() };
  }
  throw new TypeError(`audit forward URL ${safeUrl(target.url)} has an unsupported scheme`);
}

/** One POST of JSON lines; resolves on a 2xx answer. */
function postLines(
  url: URL,
  lines: SealedLine[],
  token: string | undefined,
  ca: Buffer | undefined,
  timeoutMs: number,
): Promise<void> {
  let body = '';
  for (const l of lines) body += l.line;
  const headers: Record<string, string> = {
    'content-type': 'application/x-ndjson',
    'content-length': String(Buffer.byteLength(body)),
  };
  if (token) headers.authorization = `Bearer ${token}`;
  const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise<void>((resolve, reject) => {
    const req = request(url, { method: 'POST', headers, ca, timeout: timeoutMs }, (res) => {
      res.resume();
      res.on('end', () => {
        const status = res.statusCode ?? 0;
        if (status >= 200 && status < 300) resolve();
        else reject(new Error(`HTTP ${status}`));
      });
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * A syslog stream: RFC 5424 messages, facility 13 (log audit), severity 6 (informational),
 * MSGID the record kind, the record's JSON as MSG, each framed as `<length> <message>`.
 */
class SyslogConnection {
  private socket: Socket | null = null;
  private readonly host = hostname().replace(/[^\x21-\x7e]/g, '') || '-';

  constructor(
    private readonly url: URL,
    private readonly tls: boolean,
    private readonly ca: Buffer | undefined,
    private readonly timeoutMs: number,
  ) {}

  sender(): (lines: SealedLine[]) => Promise<void> {
    return async (lines) => {
      const socket = await this.connect();
      let out = '';
      for (const l of lines) {
        const head = `<110>1 ${l.time} ${this.host} pgwarden ${process.pid} ${l.kind} -`;
        const msg = `${head} ${l.line.slice(0, -1)}`;
        out += `${Buffer.byteLength(msg)} ${msg}`;
      }
      await new Promise<void>((resolve, reject) => {
        socket.write(out, (err) => (err ? reject(err) : resolve()));
      }).catch((err: unknown) => {
        this.drop();
        throw err;
      });
    };
  }

  private drop(): void {
    this.socket?.destroy();
    this.socket = null;
  }

  private connect(): Promise<Socket> {
    if (this.socket && !this.socket.destroyed) return Promise.resolve(this.socket);
    const port = Number(this.url.port || (this.tls ? 6514 : 601));
    const host = this.url.hostname.replace(/^\[|\]$/g, '');
    return new Promise<Socket>((resolve, reject) => {
      const socket = this.tls
        ? // SNI names a host, never an address (RFC 6066); the certificate is still checked
          // against the address.
          tlsConnect({ host, port, ca: this.ca, servername: isIP(host) ? undefined : host }, () =>
            ready(),
          )
        : netConnect({ host, port }, () => ready());
      const timer = setTimeout(() => socket.destroy(new Error('timed out')), this.timeoutMs);
      const ready = (): void => {
        clearTimeout(timer);
        socket.on('error', () => undefined);
        // Forwarding must never keep the gateway running.
        socket.unref();
        socket.on('close', () => {
          if (this.socket === socket) this.socket = null;
        });
        this.socket = socket;
        resolve(socket);
      };
      socket.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
    });
  }

  close(): void {
    this.drop();
  }
}
