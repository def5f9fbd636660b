// The response flow keeps the last RowDescription it parsed and reuses it while the bytes are the
// same; a different description must never be answered with the kept fields.
import { describe, expect, it } from 'vitest';
import { ResponseFlow } from '../../src/gateway/response-flow.js';
import type { StatementRun } from '../../src/gateway/results.js';
import { ProtocolState } from '../../src/gateway/state.js';
import type { ResultField } from '../../src/masking/types.js';
import { MessageFramer, type WireMessage } from '../../src/wire/index.js';

function message(type: string, body: Buffer): Buffer {
  const head = Buffer.alloc(5);
  head[0] = type.charCodeAt(0);
  head.writeInt32BE(4 + body.length, 1);
  return Buffer.concat([head, body]);
}

/** A RowDescription of text columns `names`, each of table OID 16384 and type `typeOid`. */
function rowDescription(names: string[], typeOid: number): Buffer {
  const parts = [Buffer.from([names.length >> 8, names.length & 0xff])];
  names.forEach((name, i) => {
    const field = Buffer.alloc(18);
    field.writeInt32BE(16384, 0);
    field.writeInt16BE(i + 1, 4);
    field.writeInt32BE(typeOid, 6);
    field.writeInt16BE(-1, 10);
    field.writeInt32BE(-1, 12);
    field.writeInt16BE(0, 16);
    parts.push(Buffer.from(`${name}\0`), field);
  });
  return message('T', Buffer.concat(parts));
}

function frame(bytes: Buffer): WireMessage[] {
  const out: WireMessage[] = [];
  new MessageFramer().push(bytes, out);
  return out;
}

/** Runs one simple-query result through the flow; returns the fields its run was given. */
function described(flow: ResponseFlow, state: ProtocolState, description: Buffer): ResultField[] {
  const seen: ResultField[][] = [];
  const run = {
    scans: true,
    describe: (fields: ResultField[]) => seen.push(fields),
    finish: () => undefined,
  } as unknown as StatementRun;
  state.push({ kind: 'query', runs: [run], index: 0 });
  const complete = message('C', Buffer.from('SELECT 0\0'));
  const ready = message('Z', Buffer.from('I'));
  for (const msg of frame(Buffer.concat([description, complete, ready]))) flow.handle(msg);
  expect(seen).toHaveLength(1);
  return seen[0]!;
}

describe('RowDescription reuse', () => {
  it('parses a different description afresh and reuses an identical one', () => {
    const state = new ProtocolState();
    const flow = new ResponseFlow(state);
    const first = described(flow, state, rowDescription(['id', 'pan'], 25));
    expect(first.map((f) => [f.name, f.typeOid, f.columnAttr])).toEqual([
      ['id', 25, 1],
      ['pan', 25, 2],
    ]);

    // Same names, another type: the bytes differ, so must the fields.
    const retyped = described(flow, state, rowDescription(['id', 'pan'], 1043));
    expect(retyped.map((f) => f.typeOid)).toEqual([1043, 1043]);

    const other = described(flow, state, rowDescription(['brand'], 25));
    expect(other.map((f) => f.name)).toEqual(['brand']);

    const again = described(flow, state, rowDescription(['brand'], 25));
    expect(again).toBe(other);
    expect(described(flow, state, rowDescription(['id', 'pan'], 25))).toEqual(first);
  });

  it('keeps a copy of the bytes, not a view of a chunk that may be reused', () => {
    const state = new ProtocolState();
    const flow = new ResponseFlow(state);
    const chunk = rowDescription(['pan'], 25);
    const first = described(flow, state, chunk);
    // The socket's memory is overwritten with another description of the same length.
    rowDescription(['bin'], 25).copy(chunk);
    const second = described(flow, state, chunk);
    expect(first.map((f) => f.name)).toEqual(['pan']);
    expect(second.map((f) => f.name)).toEqual(['bin']);
  });
});
