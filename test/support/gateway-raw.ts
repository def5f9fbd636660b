// A bare-socket PostgreSQL client for tests that must send exactly the bytes they choose.
import net from 'node:net';
import {
  MessageFramer,
  PROTOCOL_3_0,
  passwordMessage,
  startupMessage,
  type WireMessage,
} from '../../src/wire/index.js';

/** A socket with a framer for backend messages. */
export class RawClient {
  private readonly framer = new MessageFramer();
  private readonly queue: WireMessage[] = [];
  private waiters: Array<() => void> = [];
  closed = false;

  private constructor(readonly socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.framer.push(chunk, this.queue);
      this.wake();
    });
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
    socket.on('error', () => undefined);
  }

  /** Connects a bare socket. */
  static async connect(port: number, host = '127.0.0.1'): Promise<RawClient> {
    const socket = net.connect({ port, host });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    return new RawClient(socket);
  }

  /** Sends startup and the token, and reads up to the first ReadyForQuery. */
  async login(database: string, token: string, version = PROTOCOL_3_0): Promise<WireMessage[]> {
    this.socket.write(startupMessage({ user: 'raw', database }, version));
    const first = await this.until((m) => m.type === 0x52 || m.type === 0x45);
    if (first.at(-1)!.type === 0x45) return first;
    this.socket.write(passwordMessage(token));
    return [...first, ...(await this.until((m) => m.type === 0x5a || m.type === 0x45))];
  }

  /** Writes raw bytes. */
  write(bytes: Buffer): void {
    this.socket.write(bytes);
  }

  /** Reads messages until `stop` matches one (included), or the socket closes. */
  async until(stop: (m: WireMessage) => boolean, timeoutMs = 10_000): Promise<WireMessage[]> {
    const out: WireMessage[] = [];
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      while (this.queue.length > 0) {
        const m = this.queue.shift()!;
        out.push(m);
        if (stop(m)) return out;
      }
      if (this.closed) return out;
      if (Date.now() > deadline) throw new Error('timed out waiting for a message');
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 100);
      });
    }
  }

  /** Resolves once the server closed the connection. */
  async closedByServer(timeoutMs = 5_000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    return this.closed;
  }

  end(): void {
    this.socket.destroy();
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }
}

/** Fields of an ErrorResponse message, by code. */
export function errorFields(m: WireMessage): Record<string, string> {
  const out: Record<string, string> = {};
  let i = 0;
  while (i < m.body.length && m.body[i] !== 0) {
    const code = String.fromCharCode(m.body[i]!);
    const end = m.body.indexOf(0, i + 1);
    out[code] = m.body.toString('utf8', i + 1, end);
    i = end + 1;
  }
  return out;
}
