/**
 * Reads whole messages from a socket one at a time, for the handshake phases on both sides where
 * the gateway waits for a specific reply. After the handshake the session takes the socket and
 * the framer (with any bytes already buffered) over.
 */
import type { Socket } from 'node:net';
import { PgwardenError } from '../errors.js';
import { MessageFramer, type WireMessage } from '../wire/index.js';

/** Pull-style message reader over a socket, used until the relay starts. */
export class MessageReader {
  private readonly queue: WireMessage[] = [];
  private waiter: { resolve: (m: WireMessage) => void; reject: (e: unknown) => void } | null = null;
  private failure: unknown = null;
  private readonly onData = (chunk: Buffer): void => this.feed(chunk);
  private readonly onError = (err: unknown): void => this.fail(err);
  private readonly onClose = (): void =>
    this.fail(new PgwardenError('ERR_PROTOCOL', 'connection closed during handshake'));

  constructor(
    private readonly socket: Socket,
    readonly framer: MessageFramer,
  ) {
    socket.on('data', this.onData);
    socket.on('error', this.onError);
    socket.on('close', this.onClose);
  }

  /** The next message; rejects on close, error, a framing error, or after `timeoutMs`. */
  next(timeoutMs: number): Promise<WireMessage> {
    const ready = this.queue.shift();
    if (ready) return Promise.resolve(ready);
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiter = null;
        reject(new PgwardenError('ERR_PROTOCOL', 'timed out waiting for a message'));
      }, timeoutMs);
      this.waiter = {
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      };
    });
  }

  /** Frames what is buffered again, after the framing mode changed (startup to typed). */
  reframe(): void {
    this.feed(Buffer.alloc(0));
  }

  /** Adds bytes that were read from the socket by someone else (after a PROXY header). */
  feedBytes(chunk: Buffer): void {
    this.feed(chunk);
  }

  /** Stops reading; returns messages framed but not consumed yet. */
  detach(): WireMessage[] {
    this.socket.off('data', this.onData);
    this.socket.off('error', this.onError);
    this.socket.off('close', this.onClose);
    return this.queue.splice(0);
  }

  private feed(chunk: Buffer): void {
    try {
      // Startup-phase packets change the framing, so take them one at a time.
      this.framer.push(chunk, this.queue, this.framer.typed ? Infinity : 1);
    } catch (err) {
      this.fail(err);
      return;
    }
    const waiter = this.waiter;
    const message = waiter && this.queue.shift();
    if (waiter && message) {
      this.waiter = null;
      waiter.resolve(message);
    }
  }

  private fail(err: unknown): void {
    this.failure ??= err;
    const waiter = this.waiter;
    this.waiter = null;
    waiter?.reject(this.failure);
  }
}
