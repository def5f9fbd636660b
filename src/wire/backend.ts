/**
 * Server (backend) messages: parsers for what the gateway reads from the upstream server, and
 * writers for what it answers clients itself.
 */
import type { ResultField } from '../masking/types.js';
import { ProtocolError } from './errors.js';
import { message } from './frontend.js';
import { BodyReader } from './reader.js';

/** Type bytes of backend messages. */
export const Backend = {
  Authentication: 0x52, // R
  BackendKeyData: 0x4b, // K
  BindComplete: 0x32, // 2
  CloseComplete: 0x33, // 3
  CommandComplete: 0x43, // C
  CopyData: 0x64, // d
  CopyDone: 0x63, // c
  CopyInResponse: 0x47, // G
  CopyOutResponse: 0x48, // H
  CopyBothResponse: 0x57, // W
  DataRow: 0x44, // D
  EmptyQueryResponse: 0x49, // I
  ErrorResponse: 0x45, // E
  FunctionCallResponse: 0x56, // V
  NegotiateProtocolVersion: 0x76, // v
  NoData: 0x6e, // n
  NoticeResponse: 0x4e, // N
  NotificationResponse: 0x41, // A
  ParameterDescription: 0x74, // t
  ParameterStatus: 0x53, // S
  ParseComplete: 0x31, // 1
  PortalSuspended: 0x73, // s
  ReadyForQuery: 0x5a, // Z
  RowDescription: 0x54, // T
} as const;

/** Authentication request codes. */
export const AuthCode = {
  Ok: 0,
  CleartextPassword: 3,
  MD5Password: 5,
  SASL: 10,
  SASLContinue: 11,
  SASLFinal: 12,
} as const;

/** Fields of an ErrorResponse or NoticeResponse, by their one-letter codes. */
export interface ErrorFields {
  /** Localized severity (S). */
  severity: string;
  /** SQLSTATE (C). */
  code: string;
  /** Primary message (M). */
  message: string;
  /** Detail (D). */
  detail?: string;
  /** Hint (H). */
  hint?: string;
}

/** Reads the fields of an ErrorResponse or NoticeResponse, keyed by field code. */
export function parseErrorFields(body: Buffer): Record<string, string> {
  const reader = new BodyReader(body);
  const fields: Record<string, string> = {};
  for (;;) {
    const code = reader.byte();
    if (code === 0) break;
    fields[String.fromCharCode(code)] = reader.cstring();
  }
  return fields;
}

/** Reads a RowDescription into result fields. */
export function parseRowDescription(body: Buffer): ResultField[] {
  const reader = new BodyReader(body);
  const count = reader.int16();
  const fields: ResultField[] = [];
  for (let i = 0; i < count; i++) {
    fields.push({
      name: reader.cstring(),
      tableOid: reader.int32() >>> 0,
      columnAttr: reader.int16(),
      typeOid: reader.int32() >>> 0,
      typeSize: reader.int16(),
      typeMod: reader.int32(),
      format: reader.int16(),
    });
  }
  reader.end();
  return fields;
}

/** Reads the command tag of a CommandComplete. */
export function parseCommandComplete(body: Buffer): string {
  return new BodyReader(body).cstring();
}

/** Row count at the end of a command tag (`SELECT 5`, `INSERT 0 5`), or null. */
export function tagRowCount(tag: string): number | null {
  const match = / (\d+)$/.exec(tag);
  return match ? Number(match[1]) : null;
}

/** Reads an Authentication message: its code and any data after it. */
export function parseAuthentication(body: Buffer): { code: number; data: Buffer } {
  const reader = new BodyReader(body);
  const code = reader.int32();
  return { code, data: reader.rest() };
}

/** Reads a ParameterStatus. */
export function parseParameterStatus(body: Buffer): { name: string; value: string } {
  const reader = new BodyReader(body);
  return { name: reader.cstring(), value: reader.cstring() };
}

/** Reads a BackendKeyData (3.0: 4-byte key; 3.2: up to 256 bytes). */
export function parseBackendKeyData(body: Buffer): { processId: number; secret: Buffer } {
  const reader = new BodyReader(body);
  const processId = reader.int32();
  const secret = Buffer.from(reader.rest());
  if (secret.length < 4) throw new ProtocolError('BackendKeyData key too short');
  return { processId, secret };
}

/** Reads the transaction status of a ReadyForQuery: 'I' idle, 'T' in block, 'E' failed block. */
export function parseReadyForQuery(body: Buffer): 'I' | 'T' | 'E' {
  const status = String.fromCharCode(new BodyReader(body).byte());
  if (status !== 'I' && status !== 'T' && status !== 'E') {
    throw new ProtocolError('invalid transaction status');
  }
  return status;
}

function fieldsBody(fields: ErrorFields): Buffer {
  const parts: string[] = [
    `S${fields.severity}\0`,
    // V is the non-localized severity, sent by PostgreSQL 9.6 and later.
    `V${fields.severity}\0`,
    `C${fields.code}\0`,
    `M${fields.message}\0`,
  ];
  if (fields.detail !== undefined) parts.push(`D${fields.detail}\0`);
  if (fields.hint !== undefined) parts.push(`H${fields.hint}\0`);
  parts.push('\0');
  return Buffer.from(parts.join(''), 'utf8');
}

/** Encodes an ErrorResponse or NoticeResponse (`type`) from all its fields, in the given order. */
export function fieldsMessage(type: number, fields: Record<string, string>): Buffer {
  const parts = Object.entries(fields).map(([code, value]) => `${code}${value}\0`);
  return message(type, Buffer.from(`${parts.join('')}\0`, 'utf8'));
}

/** Encodes an ErrorResponse. */
export function errorResponse(fields: ErrorFields): Buffer {
  return message(Backend.ErrorResponse, fieldsBody(fields));
}

/** Encodes a NoticeResponse. */
export function noticeResponse(fields: ErrorFields): Buffer {
  return message(Backend.NoticeResponse, fieldsBody(fields));
}

/** Encodes a ReadyForQuery with transaction status 'I', 'T' or 'E'. */
export function readyForQuery(status: 'I' | 'T' | 'E'): Buffer {
  return message(Backend.ReadyForQuery, Buffer.from(status));
}

/** Encodes an Authentication message with `code` and optional data. */
export function authentication(code: number, data: Buffer = Buffer.alloc(0)): Buffer {
  const body = Buffer.alloc(4 + data.length);
  body.writeInt32BE(code, 0);
  data.copy(body, 4);
  return message(Backend.Authentication, body);
}

/** Encodes a BackendKeyData. */
export function backendKeyData(processId: number, secret: Buffer): Buffer {
  const body = Buffer.alloc(4 + secret.length);
  body.writeInt32BE(processId, 0);
  secret.copy(body, 4);
  return message(Backend.BackendKeyData, body);
}

/** Encodes a ParameterStatus. */
export function parameterStatus(name: string, value: string): Buffer {
  return message(Backend.ParameterStatus, Buffer.from(`${name}\0${value}\0`, 'utf8'));
}

/**
 * Encodes a NegotiateProtocolVersion: the newest minor version the server speaks, and the
 * protocol options (`_pq_.*`) it did not recognise.
 */
export function negotiateProtocolVersion(minor: number, unsupported: string[]): Buffer {
  const names = Buffer.from(unsupported.map((name) => `${name}\0`).join(''), 'utf8');
  const body = Buffer.alloc(8 + names.length);
  body.writeInt32BE(minor, 0);
  body.writeInt32BE(unsupported.length, 4);
  names.copy(body, 8);
  return message(Backend.NegotiateProtocolVersion, body);
}
