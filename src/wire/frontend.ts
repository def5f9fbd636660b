/**
 * Client (frontend) messages: parsers for what the gateway must read from clients, and writers
 * for what it sends to the upstream server itself.
 */
import { ProtocolError } from './errors.js';
import { BodyReader } from './reader.js';

/** Type bytes of frontend messages. */
export const Frontend = {
  Bind: 0x42, // B
  Close: 0x43, // C
  CopyData: 0x64, // d
  CopyDone: 0x63, // c
  CopyFail: 0x66, // f
  Describe: 0x44, // D
  Execute: 0x45, // E
  Flush: 0x48, // H
  FunctionCall: 0x46, // F
  Parse: 0x50, // P
  Password: 0x70, // p (also SASLInitialResponse, SASLResponse, GSSResponse)
  Query: 0x51, // Q
  Sync: 0x53, // S
  Terminate: 0x58, // X
} as const;

/** Parse: prepares `text` as statement `name` ('' is the unnamed statement). */
export interface ParseMessage {
  name: string;
  text: string;
  paramTypes: number[];
}

/** Bind: makes portal `portal` from statement `statement`. */
export interface BindMessage {
  portal: string;
  statement: string;
  /** Result column format codes: none = all text, one = applies to all, else per column. */
  resultFormats: number[];
}

/** Describe or Close target: 'S' statement or 'P' portal. */
export interface TargetMessage {
  target: 'S' | 'P';
  name: string;
}

/** Execute: runs `portal`, returning at most `maxRows` rows (0 = all). */
export interface ExecuteMessage {
  portal: string;
  maxRows: number;
}

/** Reads the query text of a Query message. */
export function parseQuery(body: Buffer): string {
  const reader = new BodyReader(body);
  const text = reader.cstring();
  reader.end();
  return text;
}

/** Reads a Parse message. */
export function parseParse(body: Buffer): ParseMessage {
  const reader = new BodyReader(body);
  const name = reader.cstring();
  const text = reader.cstring();
  const count = reader.int16();
  if (count < 0) throw new ProtocolError('negative parameter count in Parse');
  const paramTypes: number[] = [];
  for (let i = 0; i < count; i++) paramTypes.push(reader.int32() >>> 0);
  reader.end();
  return { name, text, paramTypes };
}

/** Reads a Bind message; parameter values are skipped, never kept (they may hold secrets). */
export function parseBind(body: Buffer): BindMessage {
  const reader = new BodyReader(body);
  const portal = reader.cstring();
  const statement = reader.cstring();
  const formatCount = reader.int16();
  for (let i = 0; i < formatCount; i++) reader.int16();
  const valueCount = reader.int16();
  if (formatCount < 0 || valueCount < 0) throw new ProtocolError('negative count in Bind');
  for (let i = 0; i < valueCount; i++) {
    const length = reader.int32();
    if (length > 0) reader.bytes(length);
    else if (length < -1) throw new ProtocolError('invalid parameter length in Bind');
  }
  const resultCount = reader.int16();
  if (resultCount < 0) throw new ProtocolError('negative result format count in Bind');
  const resultFormats: number[] = [];
  for (let i = 0; i < resultCount; i++) resultFormats.push(reader.int16());
  reader.end();
  return { portal, statement, resultFormats };
}

/** Reads a Describe or Close message. */
export function parseTarget(body: Buffer): TargetMessage {
  const reader = new BodyReader(body);
  const target = reader.byte();
  if (target !== 0x53 && target !== 0x50) throw new ProtocolError('invalid Describe/Close target');
  const name = reader.cstring();
  reader.end();
  return { target: target === 0x53 ? 'S' : 'P', name };
}

/** Reads an Execute message. */
export function parseExecute(body: Buffer): ExecuteMessage {
  const reader = new BodyReader(body);
  const portal = reader.cstring();
  const maxRows = reader.int32();
  reader.end();
  return { portal, maxRows };
}

/** Reads a PasswordMessage (cleartext): the client's token. */
export function parsePassword(body: Buffer): string {
  const reader = new BodyReader(body);
  const value = reader.cstring();
  reader.end();
  return value;
}

/** Builds a message with a type byte, a length and the given body. */
export function message(type: number, body: Buffer): Buffer {
  const out = Buffer.allocUnsafe(5 + body.length);
  out[0] = type;
  out.writeInt32BE(4 + body.length, 1);
  body.copy(out, 5);
  return out;
}

function cstr(value: string): Buffer {
  return Buffer.from(`${value}\0`, 'utf8');
}

/** Encodes a Query. */
export function queryMessage(text: string): Buffer {
  return message(Frontend.Query, cstr(text));
}

/** Encodes a Parse without parameter types. */
export function parseMessage(name: string, text: string): Buffer {
  return message(Frontend.Parse, Buffer.concat([cstr(name), cstr(text), Buffer.alloc(2)]));
}

/** Encodes a Describe of a statement ('S') or portal ('P'). */
export function describeMessage(target: 'S' | 'P', name: string): Buffer {
  return message(Frontend.Describe, Buffer.concat([Buffer.from(target), cstr(name)]));
}

/** Encodes a Sync. */
export function syncMessage(): Buffer {
  return message(Frontend.Sync, Buffer.alloc(0));
}

/** Encodes a Terminate. */
export function terminateMessage(): Buffer {
  return message(Frontend.Terminate, Buffer.alloc(0));
}

/** Encodes a cleartext or md5 PasswordMessage. */
export function passwordMessage(password: string): Buffer {
  return message(Frontend.Password, cstr(password));
}

/** Encodes a SASLInitialResponse for `mechanism` with the client-first message. */
export function saslInitialResponse(mechanism: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeInt32BE(data.length, 0);
  return message(Frontend.Password, Buffer.concat([cstr(mechanism), length, data]));
}

/** Encodes a SASLResponse (client-final message). */
export function saslResponse(data: Buffer): Buffer {
  return message(Frontend.Password, data);
}
