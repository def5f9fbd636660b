import { describe, expect, it } from 'vitest';
import {
  MessageFramer,
  ProtocolError,
  errorResponse,
  parseBind,
  parseErrorFields,
  parseParse,
  parseQuery,
  parseStartupPacket,
  parseProxyV2,
  proxyV2Header,
  queryMessage,
  startupMessage,
  cancelRequest,
  negotiateProtocolVersion,
  PROTOCOL_3_2,
  type WireMessage,
} from '../../src/wire/index.js';

function frames(framer: MessageFramer, ...chunks: Buffer[]): WireMessage[] {
  const out: WireMessage[] = [];
  for (const chunk of chunks) framer.push(chunk, out);
  return out;
}

describe('MessageFramer', () => {
  it('returns messages inside one chunk as views of that chunk (zero copy)', () => {
    const chunk = Buffer.concat([queryMessage('SELECT 1'), queryMessage('SELECT 2')]);
    const out = frames(new MessageFramer(), chunk);
    expect(out.map((m) => parseQuery(m.body))).toEqual(['SELECT 1', 'SELECT 2']);
    expect(out[0]!.raw.buffer).toBe(chunk.buffer);
    expect(out[1]!.raw.byteOffset).toBe(chunk.byteOffset + out[0]!.raw.length);
  });

  it('assembles a message split at every possible byte boundary', () => {
    const whole = Buffer.concat([queryMessage('SELECT 1'), queryMessage('SELECT 22')]);
    for (let cut = 1; cut < whole.length; cut++) {
      const out = frames(new MessageFramer(), whole.subarray(0, cut), whole.subarray(cut));
      expect(out.map((m) => parseQuery(m.body))).toEqual(['SELECT 1', 'SELECT 22']);
    }
  });

  it('assembles a large message arriving one byte at a time', () => {
    const text = 'x'.repeat(3000);
    const whole = queryMessage(text);
    const framer = new MessageFramer();
    const out: WireMessage[] = [];
    for (let i = 0; i < whole.length; i++) framer.push(whole.subarray(i, i + 1), out);
    expect(out).toHaveLength(1);
    expect(parseQuery(out[0]!.body)).toBe(text);
  });

  it('refuses lengths below 4 and above the cap with 08P01', () => {
    const bad = Buffer.from([0x51, 0, 0, 0, 2]);
    expect(() => frames(new MessageFramer(), bad)).toThrow(ProtocolError);
    const big = Buffer.from([0x51, 0, 0, 0x10, 0]);
    try {
      frames(new MessageFramer(1024), big);
      expect.unreachable();
    } catch (err) {
      expect((err as ProtocolError).sqlstate).toBe('08P01');
    }
  });

  it('frames startup packets without a type byte, one at a time when limited', () => {
    const framer = new MessageFramer(1024, false);
    const out: WireMessage[] = [];
    const startup = startupMessage({ user: 'u', database: 'd' });
    framer.push(Buffer.concat([startup, queryMessage('SELECT 1')]), out, 1);
    expect(out).toHaveLength(1);
    const packet = parseStartupPacket(out[0]!.body);
    expect(packet).toMatchObject({ kind: 'startup', parameters: { user: 'u', database: 'd' } });
    framer.typed = true;
    framer.push(Buffer.alloc(0), out);
    expect(parseQuery(out[1]!.body)).toBe('SELECT 1');
  });
});

describe('message codecs', () => {
  it('parses startup packets: 3.2 with protocol options, cancel keys, bad versions', () => {
    const startup = startupMessage({ user: 'u', '_pq_.compression': 'on' }, PROTOCOL_3_2);
    expect(parseStartupPacket(startup.subarray(4))).toEqual({
      kind: 'startup',
      version: PROTOCOL_3_2,
      parameters: { user: 'u' },
      protocolOptions: ['_pq_.compression'],
    });
    const cancel = cancelRequest(42, Buffer.alloc(32, 7));
    expect(parseStartupPacket(cancel.subarray(4))).toMatchObject({ kind: 'cancel', processId: 42 });
    const v2 = Buffer.from([0, 2, 0, 0, 0]);
    expect(() => parseStartupPacket(v2)).toThrow(/unsupported frontend protocol/);
  });

  it('parses Parse and Bind and rejects truncated ones', () => {
    const parse = Buffer.concat([Buffer.from('s1\0SELECT $1\0'), Buffer.from([0, 1, 0, 0, 0, 23])]);
    expect(parseParse(parse)).toEqual({ name: 's1', text: 'SELECT $1', paramTypes: [23] });
    expect(() => parseParse(parse.subarray(0, parse.length - 1))).toThrow(ProtocolError);
    const bind = Buffer.concat([
      Buffer.from('p\0s1\0'),
      Buffer.from([0, 0, 0, 1, 0, 0, 0, 2]),
      Buffer.from('42'),
      Buffer.from([0, 1, 0, 1]),
    ]);
    expect(parseBind(bind)).toEqual({ portal: 'p', statement: 's1', resultFormats: [1] });
    const lying = Buffer.concat([Buffer.from('p\0s1\0'), Buffer.from([0, 0, 0, 1, 0, 0, 1, 0])]);
    expect(() => parseBind(lying)).toThrow(ProtocolError);
  });

  it('writes ErrorResponse and NegotiateProtocolVersion as PostgreSQL does', () => {
    const err = errorResponse({ severity: 'ERROR', code: '42501', message: 'no', detail: 'why' });
    expect(String.fromCharCode(err[0]!)).toBe('E');
    expect(err.readInt32BE(1)).toBe(err.length - 1);
    expect(parseErrorFields(err.subarray(5))).toEqual({
      S: 'ERROR',
      V: 'ERROR',
      C: '42501',
      M: 'no',
      D: 'why',
    });
    const npv = negotiateProtocolVersion(2, ['_pq_.x']);
    expect(npv.subarray(5, 13)).toEqual(Buffer.from([0, 0, 0, 2, 0, 0, 0, 1]));
  });

  it('round-trips a PROXY v2 header and waits for a partial one', () => {
    const header = proxyV2Header('10.1.2.3', 5555, '127.0.0.1', 6432);
    expect(parseProxyV2(header.subarray(0, 10))).toBeNull();
    expect(parseProxyV2(header)).toEqual({
      header: { command: 'proxy', sourceAddr: '10.1.2.3', sourcePort: 5555 },
      length: 28,
    });
    expect(() => parseProxyV2(Buffer.from('GET / HTTP/1.1\r\n'))).toThrow(ProtocolError);
  });
});
