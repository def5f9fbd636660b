/**
 * Startup-phase packets: the first packet of a connection has no type byte, and its first int32
 * after the length says what it is (a protocol version or one of the special request codes).
 */
import { ProtocolError } from './errors.js';
import { BodyReader } from './reader.js';

/** Request code of SSLRequest (1234.5679). */
export const SSL_REQUEST_CODE = 80877103;
/** Request code of GSSENCRequest (1234.5680). */
export const GSSENC_REQUEST_CODE = 80877104;
/** Request code of CancelRequest (1234.5678). */
export const CANCEL_REQUEST_CODE = 80877102;

/** Protocol version 3.0 as sent on the wire (major << 16 | minor). */
export const PROTOCOL_3_0 = 3 << 16;
/** Protocol version 3.2 (PostgreSQL 18: variable-length cancel keys). */
export const PROTOCOL_3_2 = (3 << 16) | 2;

/** A decoded startup-phase packet. */
export type StartupPacket =
  | { kind: 'ssl' }
  | { kind: 'gssenc' }
  | { kind: 'cancel'; processId: number; secret: Buffer }
  | {
      kind: 'startup';
      /** Requested version, major << 16 | minor. */
      version: number;
      /** Parameters other than `_pq_.` protocol options. */
      parameters: Record<string, string>;
      /** `_pq_.` protocol options the client asked for (none are supported). */
      protocolOptions: string[];
    };

/** Decodes the body (after the length) of a startup-phase packet. */
export function parseStartupPacket(body: Buffer): StartupPacket {
  const reader = new BodyReader(body);
  const code = reader.int32();
  if (code === SSL_REQUEST_CODE) return { kind: 'ssl' };
  if (code === GSSENC_REQUEST_CODE) return { kind: 'gssenc' };
  if (code === CANCEL_REQUEST_CODE) {
    const processId = reader.int32();
    // Protocol 3.2 allows keys of 4 to 256 bytes; 3.0 always sends 4.
    const secret = reader.rest();
    if (secret.length < 4 || secret.length > 256) {
      throw new ProtocolError('invalid cancel key length');
    }
    return { kind: 'cancel', processId, secret };
  }
  if (code >>> 16 !== 3) {
    throw new ProtocolError(
      `unsupported frontend protocol ${code >>> 16}.${code & 0xffff}: server supports 3.0 to 3.2`,
      '0A000',
    );
  }
  const parameters: Record<string, string> = {};
  const protocolOptions: string[] = [];
  // Name/value pairs end with one empty name.
  for (;;) {
    const name = reader.cstring();
    if (name === '') break;
    const value = reader.cstring();
    if (name.startsWith('_pq_.')) protocolOptions.push(name);
    else parameters[name] = value;
  }
  reader.end();
  return { kind: 'startup', version: code, parameters, protocolOptions };
}

/** Encodes a StartupMessage (for the upstream connection). */
export function startupMessage(parameters: Record<string, string>, version = PROTOCOL_3_0): Buffer {
  const parts: Buffer[] = [];
  for (const [name, value] of Object.entries(parameters)) {
    parts.push(Buffer.from(`${name}\0${value}\0`, 'utf8'));
  }
  parts.push(Buffer.from([0]));
  const payload = Buffer.concat(parts);
  const out = Buffer.alloc(8 + payload.length);
  out.writeInt32BE(out.length, 0);
  out.writeInt32BE(version, 4);
  payload.copy(out, 8);
  return out;
}

/** Encodes an SSLRequest. */
export function sslRequest(): Buffer {
  const out = Buffer.alloc(8);
  out.writeInt32BE(8, 0);
  out.writeInt32BE(SSL_REQUEST_CODE, 4);
  return out;
}

/** Encodes a CancelRequest for a backend's process id and secret key. */
export function cancelRequest(processId: number, secret: Buffer): Buffer {
  const out = Buffer.alloc(12 + secret.length);
  out.writeInt32BE(out.length, 0);
  out.writeInt32BE(CANCEL_REQUEST_CODE, 4);
  out.writeInt32BE(processId, 8);
  secret.copy(out, 12);
  return out;
}
