/**
 * A bounds-checked cursor over one message body. Every read past the end is a ProtocolError, so
 * a truncated or lying message can never make the gateway read another message's bytes.
 */
import { ProtocolError } from './errors.js';

/** Reads big-endian integers and NUL-terminated strings from a message body. */
export class BodyReader {
  private offset = 0;

  constructor(private readonly body: Buffer) {}

  /** Bytes not read yet. */
  get remaining(): number {
    return this.body.length - this.offset;
  }

  /** Reads one byte. */
  byte(): number {
    this.need(1);
    return this.body[this.offset++]!;
  }

  /** Reads a signed 16-bit integer. */
  int16(): number {
    this.need(2);
    const value = this.body.readInt16BE(this.offset);
    this.offset += 2;
    return value;
  }

  /** Reads a signed 32-bit integer. */
  int32(): number {
    this.need(4);
    const value = this.body.readInt32BE(this.offset);
    this.offset += 4;
    return value;
  }

  /** Reads `length` raw bytes (a view, not a copy). */
  bytes(length: number): Buffer {
    if (length < 0) throw new ProtocolError('negative length in message');
    this.need(length);
    const view = this.body.subarray(this.offset, this.offset + length);
    this.offset += length;
    return view;
  }

  /** Reads the rest of the body (a view). */
  rest(): Buffer {
    return this.bytes(this.remaining);
  }

  /** Reads a NUL-terminated UTF-8 string. */
  cstring(): string {
    const end = this.body.indexOf(0, this.offset);
    if (end < 0) throw new ProtocolError('string in message is not NUL-terminated');
    const value = this.body.toString('utf8', this.offset, end);
    this.offset = end + 1;
    return value;
  }

  /** Throws unless the whole body was read: trailing bytes mean a malformed message. */
  end(): void {
    if (this.offset !== this.body.length) throw new ProtocolError('message has trailing bytes');
  }

  private need(length: number): void {
    if (this.offset + length > this.body.length) throw new ProtocolError('message too short');
  }
}
