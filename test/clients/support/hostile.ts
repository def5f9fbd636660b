// Generators of hostile frontend input and a bare-socket exchange that reports what the gateway
// did about it. Messages are built and read here by hand, not with src/wire, so a bug in the
// gateway's own framing cannot hide itself from these tests.
import fc from 'fast-check';
import net from 'node:net';

/** What a gateway did with one hostile connection. */
export interface Outcome {
  /** The server closed the connection (before the test gave up waiting). */
  closed: boolean;
  /** Every ErrorResponse received, in order. */
  errors: Array<{ severity: string; code: string; message: string }>;
  /** Type bytes of every backend message received. */
  types: string[];
  /** Describes the case for assertion messages. */
  note: string;
}

/** A regular message: type byte, int32 length counting itself, body. */
export function frame(type: string, body: Buffer, length = body.length + 4): Buffer {
  const head = Buffer.alloc(5);
  head.write(type, 0, 'latin1');
  head.writeInt32BE(length, 1);
  return Buffer.concat([head, body]);
}

/** A startup-phase packet: int32 length, int32 code, body. */
function startupPacket(code: number, body: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeInt32BE(body.length + 8, 0);
  head.writeInt32BE(code, 4);
  return Buffer.concat([head, body]);
}

const PROTOCOL_3_0 = 3 << 16;

function cstring(text: string): Buffer {
  return Buffer.from(`${text}\0`, 'utf8');
}

/** A good StartupMessage for the demo's `payments` database as `user`. */
export function goodStartup(user: string): Buffer {
  const body = Buffer.concat([
    cstring('user'),
    cstring(user),
    cstring('database'),
    cstring('payments'),
    Buffer.from([0]),
  ]);
  return startupPacket(PROTOCOL_3_0, body);
}

const nonZeroBytes = (min: number, max: number) =>
  fc
    .uint8Array({ minLength: min, maxLength: max })
    .map((a) => Buffer.from(a.map((b) => (b === 0 ? 1 : b))));

function lengthThen(length: number, rest: Uint8Array): Buffer {
  const head = Buffer.alloc(4);
  head.writeInt32BE(length, 0);
  return Buffer.concat([head, Buffer.from(rest)]);
}

/**
 * A startup packet whose length cannot be right: under 4, over 10000, or negative, followed by
 * anything; or 4 to 7 (too short for a protocol version) followed by at least that many bytes.
 */
export const badLength: fc.Arbitrary<Buffer> = fc.oneof(
  fc
    .tuple(
      fc.oneof(
        fc.integer({ min: 0, max: 3 }),
        fc.integer({ min: 10_001, max: 0x7fffffff }),
        fc.integer({ min: -0x80000000, max: -1 }),
      ),
      fc.uint8Array({ maxLength: 32 }),
    )
    .map(([length, rest]) => lengthThen(length, rest)),
  fc
    .tuple(fc.integer({ min: 4, max: 7 }), fc.uint8Array({ minLength: 3, maxLength: 32 }))
    .map(([length, rest]) => lengthThen(length, rest)),
);

/** A startup length of 5 to 7 with nothing after it: PostgreSQL refuses it on the spot. */
export const shortLengthAlone: fc.Arbitrary<Buffer> = fc
  .integer({ min: 5, max: 7 })
  .map((length) => lengthThen(length, new Uint8Array(0)));

/** A protocol 3.0 StartupMessage whose parameter list has no NUL terminator at all. */
export const startupNoTerminator: fc.Arbitrary<Buffer> = nonZeroBytes(1, 200).map((body) =>
  startupPacket(PROTOCOL_3_0, body),
);

/**
 * What follows a good StartupMessage instead of a proper PasswordMessage: a password message
 * without its terminator, one with an impossible length, or another message type entirely.
 */
export const garbledPassword: fc.Arbitrary<Buffer> = fc.oneof(
  nonZeroBytes(1, 100).map((body) => frame('p', body)),
  fc.integer({ min: -100, max: 3 }).map((length) => frame('p', Buffer.alloc(0), length)),
  fc
    .tuple(
      fc.constantFrom(...'QPBDESHCFdcfA'.split('')),
      fc.uint8Array({ maxLength: 40 }).map((a) => Buffer.from(a)),
    )
    .map(([type, body]) => frame(type, body)),
);

const FRONTEND_TYPES = new Set('BCdcfDEHFPpQSX'.split('').map((c) => c.charCodeAt(0)));

/** A well-framed message of a type that no frontend sends in a session. */
export const unknownType: fc.Arbitrary<Buffer> = fc
  .tuple(
    fc.integer({ min: 0, max: 255 }).filter((t) => !FRONTEND_TYPES.has(t)),
    fc.uint8Array({ maxLength: 64 }).map((a) => Buffer.from(a)),
  )
  .map(([type, body]) => frame(String.fromCharCode(type), body));

function int16(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeInt16BE(n, 0);
  return b;
}

/** Known message types with bodies that break their layout; each says what it breaks. */
export const malformedKnown: fc.Arbitrary<{ bytes: Buffer; note: string }> = fc.oneof(
  nonZeroBytes(1, 120).map((b) => ({ bytes: frame('Q', b), note: 'Query without terminator' })),
  nonZeroBytes(1, 120).map((b) => ({ bytes: frame('P', b), note: 'Parse without terminators' })),
  fc.integer({ min: 1, max: 30_000 }).map((n) => ({
    bytes: frame('B', Buffer.concat([cstring(''), cstring(''), int16(n)])),
    note: `Bind announcing ${n} format codes and sending none`,
  })),
  fc
    .tuple(fc.integer({ min: 1, max: 1000 }), nonZeroBytes(0, 8))
    .filter(([n, tail]) => tail.length < n * 4)
    .map(([n, tail]) => ({
      bytes: frame('P', Buffer.concat([cstring(''), cstring('SELECT 1'), int16(n), tail])),
      note: `Parse announcing ${n} parameter types with ${tail.length} bytes of them`,
    })),
  fc
    .tuple(
      fc.constantFrom('D', 'C'),
      fc.integer({ min: 0, max: 255 }).filter((k) => k !== 0x53 && k !== 0x50),
    )
    .map(([type, kind]) => ({
      bytes: frame(type, Buffer.concat([Buffer.from([kind]), cstring('x')])),
      note: `${type === 'D' ? 'Describe' : 'Close'} of kind ${kind}`,
    })),
  fc.uint8Array({ maxLength: 3 }).map((tail) => ({
    bytes: frame('E', Buffer.concat([cstring(''), Buffer.from(tail)])),
    note: `Execute with ${tail.length} of the 4 row-limit bytes`,
  })),
  fc
    .tuple(fc.constantFrom(...'QPBDESHC'.split('')), fc.integer({ min: -1000, max: 3 }))
    .map(([type, length]) => ({
      bytes: frame(type, Buffer.alloc(0), length),
      note: `${type} with length ${length}`,
    })),
  fc.constantFrom('Q', 'P', 'B').map((type) => ({
    bytes: frame(type, Buffer.alloc(0), 0x7fffffff),
    note: `${type} announcing 2 GiB`,
  })),
);

/** Any bytes at all, in a few chunks, after a good login. */
export const randomStream: fc.Arbitrary<Buffer[]> = fc.array(
  fc.uint8Array({ minLength: 1, maxLength: 200 }).map((a) => Buffer.from(a)),
  { minLength: 1, maxLength: 4 },
);

/** Reads backend messages from a socket. */
class Reader {
  buffer = Buffer.alloc(0);
  closed = false;
  readonly types: string[] = [];
  readonly errors: Outcome['errors'] = [];

  constructor(readonly socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => this.push(chunk));
    socket.on('close', () => (this.closed = true));
    socket.on('error', () => undefined);
  }

  private push(chunk: Buffer): void {
    this.buffer = Buffer.concat([this.buffer, chunk]);
    while (this.buffer.length >= 5) {
      const length = this.buffer.readInt32BE(1);
      if (this.buffer.length < length + 1) return;
      const type = String.fromCharCode(this.buffer[0]!);
      const body = this.buffer.subarray(5, length + 1);
      this.buffer = this.buffer.subarray(length + 1);
      this.types.push(type);
      if (type === 'E') this.errors.push(errorOf(body));
    }
  }

  async until(done: () => boolean, ms: number): Promise<boolean> {
    const deadline = Date.now() + ms;
    while (!done() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    return done();
  }
}

function errorOf(body: Buffer): Outcome['errors'][number] {
  const fields: Record<string, string> = {};
  let i = 0;
  while (i < body.length && body[i] !== 0) {
    const end = body.indexOf(0, i + 1);
    if (end < 0) break;
    fields[String.fromCharCode(body[i]!)] = body.toString('utf8', i + 1, end);
    i = end + 1;
  }
  return { severity: fields.V ?? fields.S ?? '', code: fields.C ?? '', message: fields.M ?? '' };
}

async function open(port: number): Promise<Reader> {
  const socket = net.connect({ port, host: '127.0.0.1' });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  return new Reader(socket);
}

/** Options of {@link exchange}. */
export interface ExchangeOptions {
  /** Send a good StartupMessage first and wait for the authentication request. */
  startupOnly?: boolean;
  /** Half-close after this long if the server has not decided, to end a partial message. */
  endAfterMs?: number;
}

/**
 * Sends `chunks` on a fresh connection and waits until the server closes it or reports a
 * protocol violation (08P01), or 3 s pass; half-closes first when `endAfterMs` is set.
 */
export async function exchange(
  port: number,
  chunks: Buffer[],
  options: ExchangeOptions = {},
  reader?: Reader,
): Promise<Outcome> {
  const r = reader ?? (await open(port));
  try {
    if (options.startupOnly) {
      r.socket.write(goodStartup('etl'));
      if (!(await r.until(() => r.types.includes('R') || r.closed, 10_000))) {
        throw new Error('no authentication request after a good startup');
      }
    }
    for (const chunk of chunks) r.socket.write(chunk);
    const decided = () => r.closed || r.errors.some((e) => e.code === '08P01');
    if (options.endAfterMs !== undefined && !(await r.until(decided, options.endAfterMs))) {
      r.socket.end();
    }
    await r.until(() => r.closed, 3_000);
    return { closed: r.closed, errors: [...r.errors], types: [...r.types], note: hex(chunks) };
  } finally {
    r.socket.destroy();
  }
}

/** Logs in as `etl` with `token`, then sends `chunks` as {@link exchange} does. */
export async function afterLogin(
  port: number,
  token: string,
  chunks: Buffer[],
  options: ExchangeOptions = {},
): Promise<Outcome> {
  const r = await open(port);
  r.socket.write(goodStartup('etl'));
  await r.until(() => r.types.includes('R') || r.closed, 10_000);
  r.socket.write(frame('p', cstring(token)));
  if (!(await r.until(() => r.types.includes('Z') || r.closed, 10_000)) || r.closed) {
    r.socket.destroy();
    throw new Error(`login failed: ${JSON.stringify(r.errors)}`);
  }
  r.types.length = 0;
  return exchange(port, chunks, options, r);
}

function hex(chunks: Buffer[]): string {
  const all = Buffer.concat(chunks);
  return all.subarray(0, 64).toString('hex') + (all.length > 64 ? '…' : '');
}

/** A CancelRequest for any process id and secret key (4 bytes, as protocol 3.0 has it). */
export const randomCancel: fc.Arbitrary<Buffer> = fc
  .tuple(fc.integer({ min: 0, max: 0x7fffffff }), fc.uint8Array({ minLength: 4, maxLength: 4 }))
  .map(([pid, secret]) => {
    const body = Buffer.alloc(4);
    body.writeInt32BE(pid, 0);
    return startupPacket(CANCEL_REQUEST_CODE, Buffer.concat([body, Buffer.from(secret)]));
  });

const CANCEL_REQUEST_CODE = 80877102;
const SSL_REQUEST_CODE = 80877103;

/**
 * Sends SSLRequest, then `garbage` where the TLS ClientHello belongs; resolves with the byte the
 * server answered the request with and whether it then closed the connection within 5 s.
 */
export async function tlsGarbage(
  port: number,
  garbage: Buffer,
): Promise<{ answer: string; closed: boolean }> {
  const socket = net.connect({ port, host: '127.0.0.1' });
  socket.on('error', () => undefined);
  let answer = '';
  let closed = false;
  socket.on('close', () => (closed = true));
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    const first = new Promise<Buffer>((resolve) => socket.once('data', resolve));
    socket.write(startupPacket(SSL_REQUEST_CODE, Buffer.alloc(0)));
    answer = (await first).toString('latin1', 0, 1);
    socket.write(garbage);
    const deadline = Date.now() + 5_000;
    while (!closed && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    return { answer, closed };
  } finally {
    socket.destroy();
  }
}

/**
 * Bytes that are plainly not TLS, as from a client that asked for TLS and then spoke plaintext:
 * a printable first byte (no record content type, no SSLv2 header) and a second byte that is no
 * TLS major version, so the TLS layer can reject the first 5 bytes without waiting for more.
 */
export const notClientHello: fc.Arbitrary<Buffer> = fc
  .tuple(
    fc.integer({ min: 0x20, max: 0x7e }),
    fc.integer({ min: 0, max: 255 }).filter((b) => b !== 3),
    fc.uint8Array({ minLength: 3, maxLength: 300 }),
  )
  .map(([first, second, rest]) => Buffer.concat([Buffer.from([first, second]), rest]));
