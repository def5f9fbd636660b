/**
 * The listening side: accepts connections, runs the handshake, opens the upstream connection,
 * and keeps the registry of sessions that CancelRequests are matched against.
 */
import { randomInt, randomUUID, timingSafeEqual } from 'node:crypto';
import net from 'node:net';
import tls from 'node:tls';
import { PgwardenError } from '../errors.js';
import { silentLogger } from '../logger.js';
import { DEFAULT_MAX_MESSAGE_BYTES, errorResponse } from '../wire/index.js';
import { CatalogLookup } from './catalog.js';
import { handshake, HandshakeRefusal } from './handshake.js';
import type { Gateway, GatewayOptions } from './options.js';
import { Session } from './session.js';
import { connectUpstream } from './upstream.js';

/** Parameters of the client's StartupMessage passed on to upstream; others are dropped. */
const FORWARDED_PARAMETERS = [
  'application_name',
  'client_encoding',
  'DateStyle',
  'TimeZone',
  'IntervalStyle',
  'extra_float_digits',
  'datestyle',
  'timezone',
  'intervalstyle',
  'lc_messages',
];

/**
 * Starts a gateway. Before listening it checks the upstream account: a superuser is refused
 * unless `upstream.allowSuperuser` is set, since the policy would then be the only defence.
 */
export async function startGateway(input: GatewayOptions): Promise<Gateway> {
  const options: GatewayOptions = {
    ...input,
    maxMessageBytes: input.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES,
  };
  const logger = options.logger ?? silentLogger;
  const { idleTimeoutMs, maxConnections } = options;
  if (idleTimeoutMs !== undefined && !(idleTimeoutMs >= 0)) {
    throw new TypeError('idleTimeoutMs must be >= 0');
  }
  if (maxConnections !== undefined && !(maxConnections >= 1)) {
    throw new TypeError('maxConnections must be >= 1');
  }
  await checkUpstreamAccount(options);
  const secureContext = options.tls
    ? tls.createSecureContext({ cert: options.tls.cert, key: options.tls.key })
    : undefined;
  const catalog = new CatalogLookup(options.upstream);
  const sessions = new Map<number, Session>();
  const sockets = new Set<net.Socket>();
  let closing = false;

  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    socket.setNoDelay(true);
    socket.on('error', (err) => logger.debug({ err }, 'client socket error'));
    accept(socket).catch((err: unknown) => logger.error({ err }, 'connection failed'));
  });

  async function accept(raw: net.Socket): Promise<void> {
    let socket = raw;
    try {
      const shaken = await handshake(raw, options, secureContext);
      socket = shaken.socket;
      const { result } = shaken;
      if (result.kind === 'cancel') {
        cancel(result.processId, result.secret);
        raw.destroy();
        return;
      }
      if (options.maxConnections !== undefined && sessions.size >= options.maxConnections) {
        throw new HandshakeRefusal('53300', 'sorry, too many clients already');
      }
      const upstreamDatabase =
        options.upstream.database?.(result.parameters.database!) ?? result.parameters.database!;
      const forwarded: Record<string, string> = {};
      for (const name of FORWARDED_PARAMETERS) {
        const value = result.parameters[name];
        if (value !== undefined) forwarded[name] = value;
      }
      let upstream;
      try {
        upstream = await connectUpstream(
          options.upstream,
          upstreamDatabase,
          forwarded,
          options.maxMessageBytes!,
        );
      } catch (err) {
        logger.warn({ err }, 'upstream connection failed');
        throw new HandshakeRefusal('08006', 'could not connect to the upstream server');
      }
      if (closing || socket.destroyed) {
        // The gateway is shutting down or the client left while upstream logged in.
        upstream.socket.destroy();
        throw new HandshakeRefusal('57P01', 'terminating connection due to administrator command');
      }
      if (upstream.parameters.get('is_superuser') === 'on' && !options.upstream.allowSuperuser) {
        upstream.socket.destroy();
        throw new HandshakeRefusal('42501', 'the upstream account is a superuser; refused');
      }
      const processId = newProcessId(sessions);
      const id = `c-${randomUUID()}`;
      const facts = {
        id,
        identity: result.identity,
        clientAddr: result.clientAddr,
        tls: result.tls,
        database: result.parameters.database!,
        upstreamDatabase,
        user: result.parameters.user!,
        applicationName: result.parameters.application_name ?? '',
      };
      const session = new Session(
        options,
        facts,
        result.client,
        upstream,
        catalog,
        logger.child({ session: id }),
        processId,
      );
      sessions.set(processId, session);
      session.done.then(() => sessions.delete(processId));
      try {
        await session.start();
      } catch (err) {
        upstream.socket.destroy();
        sessions.delete(processId);
        logger.warn({ err }, 'session start failed');
        throw new HandshakeRefusal('08006', 'could not start the session');
      }
    } catch (err) {
      const target = (err as { socket?: net.Socket }).socket ?? socket;
      refuse(target, err);
    }
  }

  function refuse(socket: net.Socket, err: unknown): void {
    const sqlstate = (err as { sqlstate?: string }).sqlstate ?? '08P01';
    const message =
      err instanceof HandshakeRefusal || err instanceof PgwardenError
        ? err.message
        : 'connection failed';
    logger.info({ sqlstate, message }, 'connection refused');
    if (!socket.destroyed && socket.writable) {
      socket.end(errorResponse({ severity: 'FATAL', code: sqlstate, message }));
      setTimeout(() => socket.destroy(), 2_000).unref();
    } else socket.destroy();
  }

  function cancel(processId: number, secret: Buffer): void {
    const session = sessions.get(processId);
    // A wrong key does nothing, like PostgreSQL; the comparison does not leak the key by timing.
    if (!session || session.secret.length !== secret.length) return;
    if (!timingSafeEqual(session.secret, secret)) return;
    session.cancel().catch(() => undefined);
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.listen.port, options.listen.host, () => resolve());
  });
  const bound = server.address() as net.AddressInfo;
  return {
    address: { host: options.listen.host, port: bound.port },
    sessions: () => sessions.size,
    async close() {
      closing = true;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      // Statements in flight get up to the grace period to finish; idle sessions end at once.
      const deadline = Date.now() + (options.shutdownGraceMs ?? 30_000);
      for (;;) {
        for (const session of sessions.values()) if (session.idle) session.shutdown();
        if ([...sessions.values()].every((s) => s.idle) || Date.now() >= deadline) break;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      const all = [...sessions.values()];
      for (const session of all) session.shutdown();
      await Promise.all(all.map((s) => s.done));
      for (const socket of sockets) socket.destroy();
      await closed;
      await catalog.close();
    },
  };
}

function newProcessId(sessions: Map<number, Session>): number {
  for (;;) {
    const id = randomInt(1, 0x7fffffff);
    if (!sessions.has(id)) return id;
  }
}

async function checkUpstreamAccount(options: GatewayOptions): Promise<void> {
  const database = options.upstream.probeDatabase ?? 'postgres';
  const upstream = await connectUpstream(options.upstream, database, {}, 1024 * 1024);
  upstream.socket.end();
  if (upstream.parameters.get('is_superuser') === 'on' && !options.upstream.allowSuperuser) {
    throw new PgwardenError(
      'ERR_CONFIG_INVALID',
      `upstream user "${options.upstream.user}" is a superuser; ` +
        'set upstream.allowSuperuser to accept it',
    );
  }
}
