/**
 * Splits a byte stream into PostgreSQL v3 messages. Regular messages are a type byte and an
 * int32 length that counts itself; startup-phase packets (StartupMessage, SSLRequest,
 * GSSENCRequest, CancelRequest) have the length but no type byte.
 *
 * Zero copy: a message that lies inside one received chunk is returned as a view of that chunk,
 * so forwarding it sends the bytes exactly as they arrived. Only a message split across chunks is
 * assembled, once, when its last byte arrives.
 */
import { ProtocolError } from './errors.js';

/** One framed message. */
export interface WireMessage {
  /** Type byte (e.g. 0x51 'Q'), or 0 for a startup-phase packet. */
  type: number;
  /** The whole message as received: type byte (if any), length and body. */
  raw: Buffer;
  /** The body after the length field (a view into `raw`). */
  readonly body: Buffer;
}

/**
 * A framed message whose body view is made when first read: most messages on the hot path
 * (DataRow, CommandComplete, ReadyForQuery, Sync) are forwarded as `raw` and never read, and a
 * Buffer view costs an allocation.
 */
class Frame implements WireMessage {
  private view: Buffer | undefined;

  constructor(
    readonly type: number,
    readonly raw: Buffer,
    private readonly header: number,
  ) {}

  get body(): Buffer {
    return (this.view ??= this.raw.subarray(this.header));
  }
}

/** Default cap on one message: larger ones are refused with 08P01. */
export const DEFAULT_MAX_MESSAGE_BYTES = 64 * 1024 * 1024;

/** PostgreSQL's own cap on a startup packet (`MAX_STARTUP_PACKET_LENGTH`). */
export const MAX_STARTUP_PACKET_BYTES = 10_000;

/** Incremental framer for one direction of one connection. */
export class MessageFramer {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private needed = 0;
  /** False while reading startup-phase packets (no type byte). */
  typed: boolean;

  constructor(
    private readonly maxBytes = DEFAULT_MAX_MESSAGE_BYTES,
    typed = true,
  ) {
    this.typed = typed;
  }

  /** Bytes received but not yet part of a complete message. */
  get pendingBytes(): number {
    return this.buffered;
  }

  /**
   * Takes back bytes that are not part of this protocol (for example the bytes after a PROXY
   * header or before a TLS handshake) so they can be handed to another reader.
   */
  drain(): Buffer {
    const rest = Buffer.concat(this.chunks);
    this.chunks = [];
    this.buffered = 0;
    this.needed = 0;
    return rest;
  }

  /**
   * Adds received bytes and appends every complete message to `out`. Throws a ProtocolError for
   * a length that is impossible or over the cap; the caller then closes the connection.
   * `limit` stops after that many messages (used during the startup phase, where the framing
   * changes after one packet); the rest stays buffered.
   */
  push(chunk: Buffer, out: WireMessage[], limit = Infinity): void {
    if (this.chunks.length > 0) {
      this.chunks.push(chunk);
      this.buffered += chunk.length;
      if (this.buffered < this.needed) return;
      chunk = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks);
      this.chunks = [];
      this.buffered = 0;
    }
    this.split(chunk, out, limit);
  }

  private split(buf: Buffer, out: WireMessage[], limit: number): void {
    let offset = 0;
    let count = 0;
    const header = this.typed ? 5 : 4;
    while (count < limit) {
      const available = buf.length - offset;
      if (available < header) return this.keep(buf, offset, header);
      const type = this.typed ? buf[offset]! : 0;
      const length = buf.readInt32BE(offset + header - 4);
      this.check(length);
      const total = length + header - 4;
      if (available < total) return this.keep(buf, offset, total);
      out.push(new Frame(type, buf.subarray(offset, offset + total), header));
      offset += total;
      count++;
    }
    if (offset < buf.length) this.keep(buf, offset, 0);
  }

  private keep(buf: Buffer, offset: number, needed: number): void {
    if (offset >= buf.length) return;
    const rest = buf.subarray(offset);
    this.chunks = [rest];
    this.buffered = rest.length;
    this.needed = needed;
  }

  private check(length: number): void {
    const max = this.typed ? this.maxBytes : MAX_STARTUP_PACKET_BYTES;
    if (length < 4) throw new ProtocolError(`invalid message length ${length}`);
    // A startup-phase packet holds at least its length and a 4-byte code; refuse a shorter one
    // at once, as PostgreSQL does, rather than wait for a body that need not come.
    if (!this.typed && length < 8)
      throw new ProtocolError(`invalid startup packet length ${length}`);
    if (length > max) throw new ProtocolError(`message of ${length} bytes exceeds ${max}`);
  }
}
