/**
 * The upstream side of a session: one connection to PostgreSQL with the gateway's vaulted
 * credentials, optionally over TLS, authenticated with SCRAM-SHA-256(-PLUS), md5, cleartext or
 * trust. The client never sees these credentials.
 */
import net from 'node:net';
import tls from 'node:tls';
import { PgwardenError } from '../errors.js';
import {
  AuthCode,
  Backend,
  MessageFramer,
  cancelRequest,
  parseAuthentication,
  parseBackendKeyData,
  parseErrorFields,
  parseParameterStatus,
  parseReadyForQuery,
  passwordMessage,
  saslInitialResponse,
  saslResponse,
  sslRequest,
  startupMessage,
  type WireMessage,
} from '../wire/index.js';
import { MessageReader } from './message-reader.js';
import type { UpstreamOptions } from './options.js';
import { ScramClient, md5Password, serverEndPointHash } from './scram.js';

/** An authenticated upstream connection, ready for queries. */
export interface UpstreamConnection {
  socket: net.Socket;
  /** Framer holding any bytes received after ReadyForQuery. */
  framer: MessageFramer;
  /** Messages framed after ReadyForQuery but not consumed. */
  pending: WireMessage[];
  /** ParameterStatus messages as PostgreSQL sent them, to relay to the client. */
  parameterMessages: Buffer[];
  /** Parameter values by name (server_version, is_superuser, ...). */
  parameters: Map<string, string>;
  processId: number;
  secret: Buffer;
  status: 'I' | 'T' | 'E';
  tls: boolean;
  /** How the gateway authenticated: `trust`, `password`, `md5`, `SCRAM-SHA-256(-PLUS)`. */
  method: string;
}

/** Error raised when upstream refuses the connection or its login; carries PostgreSQL's fields. */
export class UpstreamError extends PgwardenError {
  constructor(
    message: string,
    readonly fields?: Record<string, string>,
    options?: { cause?: unknown },
  ) {
    super('ERR_UPSTREAM', message, options);
    this.name = 'UpstreamError';
  }
}

/** Opens and authenticates one upstream connection for `database`. */
export async function connectUpstream(
  options: UpstreamOptions,
  database: string,
  extraParameters: Record<string, string>,
  maxMessageBytes: number,
): Promise<UpstreamConnection> {
  const timeoutMs = options.connectTimeoutMs ?? 10_000;
  let socket = await openSocket(options.host, options.port, timeoutMs);
  let binding: Buffer | null = null;
  try {
    if (options.tls) {
      socket = await startTls(socket, options, timeoutMs);
      const peer = (socket as tls.TLSSocket).getPeerCertificate();
      if (peer?.raw) binding = serverEndPointHash(peer.raw);
    }
    const framer = new MessageFramer(maxMessageBytes);
    const reader = new MessageReader(socket, framer);
    socket.write(startupMessage({ ...extraParameters, user: options.user, database }));
    const result = await login(reader, socket, options, binding, timeoutMs);
    // Nothing may be lost between login and the session taking the socket over.
    socket.pause();
    return { socket, framer, pending: reader.detach(), tls: !!options.tls, ...result };
  } catch (err) {
    socket.destroy();
    if (err instanceof UpstreamError) throw err;
    throw new UpstreamError(`upstream connection failed: ${(err as Error).message}`, undefined, {
      cause: err,
    });
  }
}

type LoginResult = Pick<
  UpstreamConnection,
  'parameterMessages' | 'parameters' | 'processId' | 'secret' | 'status' | 'method'
>;

async function login(
  reader: MessageReader,
  socket: net.Socket,
  options: UpstreamOptions,
  binding: Buffer | null,
  timeoutMs: number,
): Promise<LoginResult> {
  const parameterMessages: Buffer[] = [];
  const parameters = new Map<string, string>();
  let processId = 0;
  let secret: Buffer = Buffer.alloc(4);
  let scram: ScramClient | null = null;
  let method = 'trust';
  for (;;) {
    const msg = await reader.next(timeoutMs);
    switch (msg.type) {
      case Backend.Authentication: {
        const { code, data } = parseAuthentication(msg.body);
        if (code === AuthCode.Ok) break;
        if (code === AuthCode.CleartextPassword) {
          method = 'password';
          socket.write(passwordMessage(options.password()));
        } else if (code === AuthCode.MD5Password) {
          method = 'md5';
          socket.write(passwordMessage(md5Password(options.user, options.password(), data)));
        } else if (code === AuthCode.SASL) {
          const mechanisms = data.toString('utf8').split('\0').filter(Boolean);
          const plus = binding !== null && mechanisms.includes('SCRAM-SHA-256-PLUS');
          if (!plus && !mechanisms.includes('SCRAM-SHA-256')) {
            throw new UpstreamError(`no supported SASL mechanism in ${mechanisms.join(', ')}`);
          }
          scram = new ScramClient(options.password(), plus ? binding : null, binding !== null);
          method = scram.mechanism;
          socket.write(saslInitialResponse(scram.mechanism, scram.clientFirst()));
        } else if (code === AuthCode.SASLContinue && scram) {
          socket.write(saslResponse(scram.clientFinal(data)));
        } else if (code === AuthCode.SASLFinal && scram) {
          scram.verifyServerFinal(data);
        } else {
          throw new UpstreamError(`unsupported upstream authentication method ${code}`);
        }
        break;
      }
      case Backend.ParameterStatus: {
        const { name, value } = parseParameterStatus(msg.body);
        parameters.set(name, value);
        parameterMessages.push(Buffer.from(msg.raw));
        break;
      }
      case Backend.BackendKeyData:
        ({ processId, secret } = parseBackendKeyData(msg.body));
        break;
      case Backend.ErrorResponse: {
        const fields = parseErrorFields(msg.body);
        throw new UpstreamError(`upstream refused: ${fields.M ?? 'unknown error'}`, fields);
      }
      case Backend.NoticeResponse:
      case Backend.NegotiateProtocolVersion:
        break;
      case Backend.ReadyForQuery:
        return {
          method,
          parameterMessages,
          parameters,
          processId,
          secret,
          status: parseReadyForQuery(msg.body),
        };
      default:
        throw new UpstreamError(`unexpected upstream message ${String.fromCharCode(msg.type)}`);
    }
  }
}

function openSocket(host: string, port: number, timeoutMs: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new UpstreamError(`upstream ${host}:${port} did not answer in ${timeoutMs} ms`));
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      // A later error must never be unhandled (that would end the process); whoever owns the
      // socket then sees it through 'close'.
      socket.on('error', () => undefined);
      socket.setNoDelay(true);
      socket.setKeepAlive(true, 60_000);
      resolve(socket);
    });
    socket.once('error', (err) => {
      clearTimeout(timer);
      reject(new UpstreamError(`upstream ${host}:${port} unreachable: ${err.message}`));
    });
  });
}

async function startTls(
  socket: net.Socket,
  options: UpstreamOptions,
  timeoutMs: number,
): Promise<tls.TLSSocket> {
  socket.write(sslRequest());
  const answer = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new UpstreamError('upstream SSLRequest timed out')),
      timeoutMs,
    );
    socket.once('data', (chunk: Buffer) => {
      clearTimeout(timer);
      // Anything after the one-byte answer would be unencrypted data injected before TLS.
      if (chunk.length !== 1) reject(new UpstreamError('unexpected bytes after SSLRequest answer'));
      else resolve(chunk[0]!);
    });
    socket.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
  if (answer !== 0x53) throw new UpstreamError('upstream server does not accept TLS');
  const tlsOptions = options.tls!;
  return new Promise((resolve, reject) => {
    const secure = tls.connect({
      socket,
      servername: tlsOptions.servername ?? (net.isIP(options.host) ? undefined : options.host),
      rejectUnauthorized: tlsOptions.rejectUnauthorized,
      ca: tlsOptions.ca,
    });
    secure.on('error', () => undefined);
    secure.once('secureConnect', () => resolve(secure));
    secure.once('error', (err) => reject(new UpstreamError(`upstream TLS failed: ${err.message}`)));
  });
}

/**
 * Sends a CancelRequest for an upstream backend over a new connection. Best effort: PostgreSQL
 * never answers a cancel, and a failure only means the query runs to its end.
 */
export async function cancelUpstream(
  options: UpstreamOptions,
  processId: number,
  secret: Buffer,
): Promise<void> {
  let socket: net.Socket | null = null;
  try {
    socket = await openSocket(options.host, options.port, options.connectTimeoutMs ?? 10_000);
    if (options.tls) socket = await startTls(socket, options, 10_000);
    const done = new Promise<void>((resolve) => {
      socket!.once('close', () => resolve());
      socket!.once('error', () => resolve());
    });
    socket.end(cancelRequest(processId, secret));
    await done;
  } catch {
    socket?.destroy();
  }
}
