/**
 * The client side of connection start: an optional PROXY v2 header from a trusted load balancer,
 * SSLRequest (TLS when configured), GSSENCRequest (always 'N'), CancelRequest, StartupMessage
 * with protocol 3.0 or 3.2, and password authentication where the password is the identity token.
 */
import net from 'node:net';
import { Duplex } from 'node:stream';
import tls from 'node:tls';
import { isPgwardenError, PgwardenError } from '../errors.js';
import {
  isOAuthBearerAbort,
  oauthBearerChallenge,
  parseOAuthBearer,
  sessionDeadline,
} from '../identity/index.js';
import type { Identity } from '../identity/types.js';
import {
  AuthCode,
  Frontend,
  MessageFramer,
  authentication,
  negotiateProtocolVersion,
  parsePassword,
  parseProxyV2,
  parseStartupPacket,
  type StartupPacket,
} from '../wire/index.js';
import { ProtocolError } from '../wire/errors.js';
import { MessageReader } from './message-reader.js';
import type { GatewayOptions } from './options.js';
import type { ClientConnection } from './session.js';

/** Time a client has to finish authenticating (PostgreSQL's authentication_timeout is 60 s). */
const HANDSHAKE_TIMEOUT_MS = 60_000;

/** A client refused during the handshake: the FATAL error it receives. */
export class HandshakeRefusal extends PgwardenError {
  constructor(
    readonly sqlstate: string,
    message: string,
  ) {
    super(sqlstate.startsWith('28') ? 'ERR_AUTH_FAILED' : 'ERR_PROTOCOL', message);
    this.name = 'HandshakeRefusal';
  }
}

/** Outcome of a handshake: a cancel request, or an authenticated client. */
export type HandshakeResult =
  | { kind: 'cancel'; processId: number; secret: Buffer }
  | {
      kind: 'session';
      client: ClientConnection;
      identity: Identity;
      parameters: Record<string, string>;
      clientAddr: string;
      tls: boolean;
    };

/** Runs the handshake on a fresh client socket. */
export async function handshake(
  raw: net.Socket,
  options: GatewayOptions,
  secureContext: tls.SecureContext | undefined,
): Promise<{ socket: net.Socket; result: HandshakeResult }> {
  const peer = normalizeAddr(raw.remoteAddress ?? '');
  let clientAddr = peer;
  let head: Buffer = Buffer.alloc(0);
  if (options.trustedProxies && isTrusted(options.trustedProxies, peer)) {
    const proxied = await readProxyHeader(raw);
    if (proxied.addr) clientAddr = normalizeAddr(proxied.addr);
    head = proxied.rest;
  }
  let socket: net.Socket = raw;
  let secure = false;
  const first = head.length > 0 ? head : await firstChunk(raw);
  if (secureContext && first[0] === TLS_HANDSHAKE) {
    // Direct TLS (PostgreSQL 17 `sslnegotiation=direct`): a ClientHello instead of SSLRequest.
    socket = await startTls(raw, secureContext, first);
    secure = true;
  }
  let framer = new MessageFramer(options.maxMessageBytes, false);
  let reader = new MessageReader(socket, framer);
  if (!secure) {
    reader.feedBytes(first);
    raw.resume();
  }
  const holder = { socket };
  try {
    for (;;) {
      const packet: StartupPacket = parseStartupPacket(
        (await reader.next(HANDSHAKE_TIMEOUT_MS)).body,
      );
      if (packet.kind === 'cancel') return { socket, result: packet };
      if (packet.kind === 'gssenc') {
        socket.write('N');
        continue;
      }
      if (packet.kind === 'ssl') {
        if (!secureContext || secure) {
          socket.write('N');
          continue;
        }
        // Bytes after SSLRequest would be plaintext injected before TLS (CVE-2021-23214).
        if (framer.pendingBytes > 0) throw new ProtocolError('unencrypted data after SSL request');
        reader.detach();
        socket.write('S');
        socket = await startTls(socket, secureContext);
        holder.socket = socket;
        secure = true;
        framer = new MessageFramer(options.maxMessageBytes, false);
        reader = new MessageReader(socket, framer);
        continue;
      }
      // StartupMessage: the rest of the connection uses typed messages.
      framer.typed = true;
      reader.reframe();
      const minor = negotiate(socket, packet.version & 0xffff, packet.protocolOptions);
      const result = await authenticate(socket, reader, options, packet.parameters, {
        clientAddr,
        peer,
        secure,
        minor,
      });
      return { socket, result };
    }
  } catch (err) {
    reader.detach();
    throw Object.assign(err as Error, { socket: holder.socket });
  }
}

function negotiate(socket: net.Socket, requested: number, unsupported: string[]): number {
  // This gateway speaks 3.0 and 3.2; 3.1 was never used by PostgreSQL and maps to 3.0.
  const minor = requested >= 2 ? 2 : 0;
  if (minor !== requested || unsupported.length > 0) {
    socket.write(negotiateProtocolVersion(minor, unsupported));
  }
  return minor;
}

async function authenticate(
  socket: net.Socket,
  reader: MessageReader,
  options: GatewayOptions,
  parameters: Record<string, string>,
  conn: { clientAddr: string; peer: string; secure: boolean; minor: number },
): Promise<HandshakeResult> {
  const replication = parameters.replication;
  if (replication !== undefined && !/^(false|off|no|0)$/i.test(replication)) {
    throw new HandshakeRefusal('0A000', 'replication connections are not supported by pgwarden');
  }
  const user = parameters.user;
  if (!user)
    throw new HandshakeRefusal('28000', 'no PostgreSQL user name specified in startup packet');
  const database = parameters.database || user;
  const loopback = isLoopback(conn.peer) && isLoopback(conn.clientAddr);
  if (!conn.secure && !(options.allowPlaintextLoopback && loopback)) {
    // Refused before the client sends its token in the clear.
    throw new HandshakeRefusal(
      '28000',
      'pgwarden requires TLS for this connection (connect with sslmode=require or stronger)',
    );
  }
  const token = options.oauthBearer
    ? await bearerToken(socket, reader, options.oauthBearer)
    : await passwordToken(socket, reader);
  if (token === '') throw new HandshakeRefusal('28P01', 'empty token');
  // Best effort: the client is refused whether or not the record is written.
  const auditRefusal = (fields: Record<string, unknown>) =>
    options.audit
      .append('auth', {
        outcome: 'failure',
        client_addr: conn.clientAddr,
        tls: conn.secure,
        user,
        database,
        ...fields,
      })
      .catch(() => undefined);
  let identity: Identity;
  try {
    identity = await options.verifier.verify(token, {
      clientAddr: conn.clientAddr,
      tls: conn.secure,
      user,
      database,
    });
  } catch (err) {
    // The verifier's reason helps the operator of the job; the token itself is never echoed.
    const reason = isPgwardenError(err)
      ? err.message.split(token).join('[token]')
      : 'verification failed';
    const declared = (err as { sqlstate?: unknown }).sqlstate;
    const code =
      declared === '28000' || declared === '28P01'
        ? declared
        : isPgwardenError(err, 'ERR_AUTH_FAILED')
          ? '28P01'
          : '28000';
    // Refusals are audited too (repeated failures are what an auditor looks for), by the
    // verifier when it has an audit hook, else here.
    if (!options.verifier.audits) {
      await auditRefusal({
        sqlstate: code,
        reason: (err as { reason?: unknown }).reason ?? reason,
      });
    }
    throw new HandshakeRefusal(code, `token authentication failed for user "${user}": ${reason}`);
  }
  // A token the clock tolerance admitted but whose session deadline has passed would open a
  // session only to end it at once: refuse it at the door, where the client sees why.
  const deadline = sessionDeadline(identity, options.sessionGraceMs ?? 0);
  if (deadline && deadline.getTime() <= Date.now()) {
    const reason = 'the token has expired';
    await auditRefusal({
      sqlstate: '28000',
      reason,
      subject: identity.subject,
      expires_at: identity.expiresAt?.toISOString(),
    });
    throw new HandshakeRefusal(
      '28000',
      `token authentication failed for user "${user}": ${reason}`,
    );
  }
  // Hold further bytes in the socket until the session listens (after upstream login).
  socket.pause();
  const pending = reader.detach();
  return {
    kind: 'session',
    client: { socket, framer: reader.framer, pending, protocolMinor: conn.minor },
    identity,
    parameters: { ...parameters, user, database },
    clientAddr: conn.clientAddr,
    tls: conn.secure,
  };
}

/** The token sent as a cleartext password (the default route for every client). */
async function passwordToken(socket: net.Socket, reader: MessageReader): Promise<string> {
  socket.write(authentication(AuthCode.CleartextPassword));
  const msg = await reader.next(HANDSHAKE_TIMEOUT_MS);
  if (msg.type !== Frontend.Password) {
    throw new ProtocolError(`expected password response, got message type ${msg.type}`);
  }
  return parsePassword(msg.body);
}

/**
 * The token of a SASL OAUTHBEARER exchange (RFC 7628, as PostgreSQL 18 speaks it):
 * 1. AuthenticationSASL offering OAUTHBEARER only;
 * 2. SASLInitialResponse: `auth=Bearer <token>`, or no token to ask where to get one;
 * 3. for discovery, AuthenticationSASLContinue with the issuer, the client's %x01, then FATAL.
 * On success PostgreSQL sends no SASLFinal for this mechanism; AuthenticationOk follows.
 */
async function bearerToken(
  socket: net.Socket,
  reader: MessageReader,
  bearer: NonNullable<GatewayOptions['oauthBearer']>,
): Promise<string> {
  socket.write(authentication(AuthCode.SASL, Buffer.from(`${OAUTHBEARER}\0\0`)));
  const initial = await reader.next(HANDSHAKE_TIMEOUT_MS);
  if (initial.type !== Frontend.Password) {
    throw new ProtocolError(`expected SASLInitialResponse, got message type ${initial.type}`);
  }
  const { mechanism, data } = parseSaslInitial(initial.body);
  if (mechanism !== OAUTHBEARER) {
    throw new HandshakeRefusal(
      '28000',
      `this listener accepts SASL ${OAUTHBEARER} only (client chose ${mechanism})`,
    );
  }
  let response;
  try {
    response = parseOAuthBearer(data);
  } catch (err) {
    throw new ProtocolError((err as Error).message);
  }
  if (response.token !== undefined) return response.token;
  socket.write(authentication(AuthCode.SASLContinue, oauthBearerChallenge(bearer)));
  const abort = await reader.next(HANDSHAKE_TIMEOUT_MS);
  if (abort.type !== Frontend.Password || !isOAuthBearerAbort(abort.body)) {
    throw new ProtocolError('expected the OAUTHBEARER error acknowledgement');
  }
  throw new HandshakeRefusal(
    '28000',
    `a bearer token from ${bearer.issuer} is required (SASL ${OAUTHBEARER})`,
  );
}

const OAUTHBEARER = 'OAUTHBEARER';

/** SASLInitialResponse: mechanism name, int32 length of the data (-1 for none), the data. */
function parseSaslInitial(body: Buffer): { mechanism: string; data: Buffer } {
  const end = body.indexOf(0);
  if (end < 0 || body.length < end + 5) throw new ProtocolError('malformed SASLInitialResponse');
  const mechanism = body.toString('utf8', 0, end);
  const length = body.readInt32BE(end + 1);
  const start = end + 5;
  if (length < -1 || start + Math.max(length, 0) > body.length) {
    throw new ProtocolError('malformed SASLInitialResponse');
  }
  return { mechanism, data: body.subarray(start, start + Math.max(length, 0)) };
}

async function readProxyHeader(socket: net.Socket): Promise<{ addr: string | null; rest: Buffer }> {
  return new Promise((resolve, reject) => {
    let buf = Buffer.alloc(0);
    const timer = setTimeout(
      () => done(new ProtocolError('timed out waiting for PROXY header')),
      10_000,
    );
    const done = (err: unknown, value?: { addr: string | null; rest: Buffer }) => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('close', onClose);
      if (err) reject(err);
      else resolve(value!);
    };
    const onClose = () => done(new ProtocolError('connection closed before PROXY header'));
    const onData = (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      try {
        const parsed = parseProxyV2(buf);
        if (!parsed) return;
        const addr = parsed.header.command === 'proxy' ? parsed.header.sourceAddr : null;
        done(null, { addr, rest: buf.subarray(parsed.length) });
      } catch (err) {
        done(err);
      }
    };
    socket.on('data', onData);
    socket.on('close', onClose);
  });
}

/** First byte of a TLS record carrying a handshake message (a ClientHello here). */
const TLS_HANDSHAKE = 0x16;

/** Waits for the first bytes of a connection, leaving the socket paused. */
function firstChunk(socket: net.Socket): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => done(new ProtocolError('no startup packet in time')), 60_000);
    const done = (err: unknown, chunk?: Buffer) => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('close', onClose);
      if (err) reject(err);
      else resolve(chunk!);
    };
    const onData = (chunk: Buffer) => {
      socket.pause();
      done(null, chunk);
    };
    const onClose = () => done(new ProtocolError('connection closed before startup'));
    socket.on('data', onData);
    socket.on('close', onClose);
  });
}

/**
 * Puts bytes already read back in front of a socket's stream, for the TLS layer to read them:
 * a TLSSocket over a plain net.Socket would read the file descriptor and miss them.
 */
function replay(socket: net.Socket, head: Buffer): Duplex {
  const stream = new Duplex({
    read: () => socket.resume(),
    write: (chunk: Buffer, _encoding, callback) => socket.write(chunk, callback),
    final: (callback) => socket.end(callback),
    destroy: (err, callback) => {
      socket.destroy(err ?? undefined);
      callback(err);
    },
  });
  stream.push(head);
  socket.on('data', (chunk: Buffer) => {
    if (!stream.push(chunk)) socket.pause();
  });
  socket.on('end', () => stream.push(null));
  socket.on('close', () => stream.destroy());
  return stream;
}

function startTls(
  socket: net.Socket,
  secureContext: tls.SecureContext,
  head?: Buffer,
): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    // Direct TLS must name the protocol with ALPN, as PostgreSQL requires.
    const direct = head !== undefined;
    const secure = new tls.TLSSocket(direct ? replay(socket, head) : socket, {
      isServer: true,
      secureContext,
      ALPNProtocols: direct ? ['postgresql'] : undefined,
    });
    // Errors after the handshake surface as 'close' to the session; never unhandled.
    secure.on('error', () => undefined);
    const timer = setTimeout(() => reject(new ProtocolError('TLS handshake timed out')), 30_000);
    secure.once('secure', () => {
      clearTimeout(timer);
      if (direct && secure.alpnProtocol !== 'postgresql') {
        secure.destroy();
        reject(new ProtocolError('direct TLS connection without ALPN "postgresql"'));
      } else resolve(secure);
    });
    secure.once('error', (err) => {
      clearTimeout(timer);
      reject(new ProtocolError(`TLS handshake failed: ${err.message}`));
    });
  });
}

/** Strips the IPv4-mapped IPv6 prefix so `::ffff:10.0.0.1` compares equal to `10.0.0.1`. */
export function normalizeAddr(addr: string): string {
  return addr.startsWith('::ffff:') && net.isIPv4(addr.slice(7)) ? addr.slice(7) : addr;
}

/** True for 127.0.0.0/8 and ::1. */
export function isLoopback(addr: string): boolean {
  return addr.startsWith('127.') || addr === '::1';
}

/** True when `peer` is one of `trusted`: addresses or CIDR ranges (`10.0.0.0/8`, `fd00::/8`). */
export function isTrusted(trusted: string[], peer: string): boolean {
  const list = new net.BlockList();
  for (const entry of trusted) {
    const [address = '', bits] = entry.split('/');
    const family = net.isIPv6(address) ? 'ipv6' : 'ipv4';
    if (!net.isIP(address)) continue;
    if (bits === undefined) list.addAddress(normalizeAddr(address), family);
    else list.addSubnet(address, Number(bits), family);
  }
  return list.check(peer, net.isIPv6(peer) ? 'ipv6' : 'ipv4');
}
