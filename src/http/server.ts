/**
 * The one HTTP server of a gateway: health and metrics without a token (bind it to loopback or
 * a private address), and the authenticated API (bundles, approvals) and pages.
 */
import type { Server } from 'node:http';
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import type { Identity } from '../identity/types.js';
import type { GatewayMetrics } from './metrics.js';

/** What the HTTP server serves; every part is optional so tests can start a slice of it. */
export interface HttpOptions {
  host: string;
  port: number;
  metrics: GatewayMetrics;
  /** True when the gateway can take statements (a bundle loaded, audit writable). */
  ready: () => boolean;
  /**
   * Verifies a bearer token; rejects on a bad one. `caller` is the peer address of the request,
   * so lockout counts failures per caller rather than for all HTTP clients at once.
   */
  authenticate: (token: string, caller: HttpCaller) => Promise<Identity>;
  /** Groups allowed to use administrative routes (bundle reload). */
  adminGroups: string[];
  /** Bundle status and reload. */
  bundles?: { status(): unknown; reload(): Promise<unknown> };
  /** The audit trail's public keys, so checkpoints can be verified without trusting us. */
  auditJwks?: () => unknown;
  /** More routers mounted at their paths (approvals API and page); `/v1/` routes need a token. */
  routers?: Array<{ path: string; router: Router }>;
}

/** Who sent an HTTP request: the socket's peer address, and whether it came over TLS. */
export interface HttpCaller {
  clientAddr: string;
  tls: boolean;
}

/** Request with the verified caller attached by {@link requireIdentity}. */
export interface AuthedRequest extends Request {
  identity?: Identity;
}

/** Builds the express application. */
export function createHttpApp(options: HttpOptions): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.use(express.json({ limit: '64kb' }));

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', (_req, res) => {
    const ready = options.ready();
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'not ready' });
  });
  app.get('/metrics', async (_req, res) => {
    res.type(options.metrics.registry.contentType).send(await options.metrics.registry.metrics());
  });
  if (options.auditJwks) {
    const jwks = options.auditJwks;
    app.get('/v1/audit/jwks.json', (_req, res) => {
      res.json(jwks());
    });
  }

  const authed = requireIdentity(options.authenticate);
  const admin = requireGroup(options.adminGroups);
  if (options.bundles) {
    const bundles = options.bundles;
    app.get('/v1/bundles', authed, (_req, res) => {
      res.json(bundles.status());
    });
    app.post('/v1/bundles/reload', authed, admin, async (_req, res) => {
      res.json(await bundles.reload());
    });
  }
  for (const { path, router } of options.routers ?? [])
    app.use(path, authedUnlessPage(authed), router);

  app.use((_req, res) => {
    res.status(404).json({ error: 'not found' });
  });
  return app;
}

/** Starts the server; resolves once it listens. */
export async function startHttpServer(options: HttpOptions): Promise<Server> {
  const app = createHttpApp(options);
  return new Promise((resolve, reject) => {
    const server = app.listen(options.port, options.host, (err?: Error) => {
      if (err) reject(err);
      else resolve(server);
    });
  });
}

/** Middleware: a valid `Authorization: Bearer` token, or 401. */
export function requireIdentity(
  authenticate: (token: string, caller: HttpCaller) => Promise<Identity>,
) {
  return async (req: AuthedRequest, res: Response, next: NextFunction): Promise<void> => {
    const header = req.get('authorization') ?? '';
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    if (!match) {
      res.status(401).set('www-authenticate', 'Bearer').json({ error: 'bearer token required' });
      return;
    }
    try {
      req.identity = await authenticate(match[1]!, {
        clientAddr: req.socket.remoteAddress ?? 'unknown',
        tls: req.secure,
      });
      next();
    } catch (err) {
      const reason = err instanceof Error ? err.message : 'invalid token';
      res.status(401).set('www-authenticate', 'Bearer').json({ error: reason });
    }
  };
}

/** Middleware: the caller must belong to one of `groups`, or 403. */
export function requireGroup(groups: string[]) {
  return (req: AuthedRequest, res: Response, next: NextFunction): void => {
    if (req.identity?.groups.some((g) => groups.includes(g))) next();
    else res.status(403).json({ error: `requires one of the groups: ${groups.join(', ')}` });
  };
}

// Pages load without a token; the API calls they make (everything under /v1/) carry one.
function authedUnlessPage(authed: ReturnType<typeof requireIdentity>) {
  return (req: AuthedRequest, res: Response, next: NextFunction): void => {
    if (req.method === 'GET' && !req.path.startsWith('/v1/')) next();
    else void authed(req, res, next);
  };
}
