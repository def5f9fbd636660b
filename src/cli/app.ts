/**
 * Puts a whole gateway together from a validated configuration: audit trail, identity,
 * policy bundles, statement analysis, masking, approvals, the PostgreSQL listener and the HTTP
 * server. `pgwarden serve` and `pgwarden demo` both run through here, so the demo exercises
 * exactly the product path.
 */
import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import {
  ApprovalService,
  approvalsRouter,
  openFileStore,
  openPostgresStore,
  postWebhook,
} from '../approvals/index.js';
import {
  loadOrCreateSigningKey,
  openAuditTrail,
  RESERVED_FIELDS,
  type AuditSink,
} from '../audit/index.js';
import type { AuditKind } from '../audit/types.js';
import type { Config } from '../config/index.js';
import { secretSource } from '../config/secrets.js';
import { NotSupportedError, PgwardenError } from '../errors.js';
import { startGateway, type Gateway } from '../gateway/index.js';
import {
  createMetrics,
  observeAudit,
  startHttpServer,
  type GatewayMetrics,
} from '../http/index.js';
import { createVerifier, verifyBearer, type IssuerOptions } from '../identity/index.js';
import { createLogger, type Logger } from '../logger.js';
import { createMaskerFactory } from '../masking/index.js';
import { startPolicy, type BundleManager, type PolicyEngine } from '../policy/index.js';
import { buildBundle, hostBuiltins } from '../rego/index.js';
import { createAnalyzer } from '../sql/index.js';

/** A running pgwarden. */
export interface Pgwarden {
  gateway: Gateway;
  http: Server | null;
  engine: PolicyEngine;
  bundles: BundleManager | null;
  approvals: ApprovalService;
  metrics: GatewayMetrics;
  /** Stops accepting, lets statements finish, flushes and checkpoints the audit trail. */
  close(): Promise<void>;
}

/** Starts everything the configuration describes. */
export async function startPgwarden(config: Config, logger?: Logger): Promise<Pgwarden> {
  const log = logger ?? createLogger({ level: config.logging.level });
  if (config.audit.sink !== 'file')
    throw new NotSupportedError('audit.sink postgres is not built yet');

  const metrics = createMetrics();
  const trail = await openAuditTrail({
    dir: config.audit.dir,
    durability: config.audit.durability,
    instance: config.instance_id,
    rotateBytes: config.audit.rotate_bytes,
    rotateSeconds: config.audit.rotate_seconds,
    checkpointEvery: config.audit.checkpoint_every,
    checkpointSeconds: config.audit.checkpoint_seconds,
    checkpointSink: config.audit.checkpoint_sink,
    batchMs: config.audit.batch_interval,
    signingKey: await loadOrCreateSigningKey(
      config.audit.signing_key_file ?? path.join(config.state_dir, 'audit-signing-key.json'),
    ),
    logger: log,
  });
  // What has started, stopped in reverse order at close or when a later part fails to start.
  const stops: Array<() => unknown> = [() => trail.close()];
  // Each stop runs once, however often close is called.
  const stopAll = async () => {
    for (const stop of stops.splice(0).reverse()) await Promise.resolve(stop()).catch(() => {});
  };
  try {
    return await assemble();
  } catch (err) {
    await stopAll();
    throw err;
  }

  async function assemble(): Promise<Pgwarden> {
    // Every event reaches the trail first and the metrics second, so /metrics never counts
    // what the trail does not hold.
    const audit: AuditSink = {
      append(kind: AuditKind, fields: Record<string, unknown>) {
        observeAudit(metrics, kind, fields);
        return trail.append(kind, fields);
      },
      get failed() {
        metrics.auditFailed.set(trail.failed ? 1 : 0);
        return trail.failed;
      },
    };
    // Module events name their own fields; those the trail keeps for itself (seq, time, kind,
    // hash, ...) are renamed with an `event_` prefix rather than refused.
    const record = (kind: AuditKind) => (event: object) => {
      // Audit fields are snake_case whatever the emitter's style (`clientAddr` -> `client_addr`).
      const fields = Object.fromEntries(
        Object.entries(event).map(([k, v]) => {
          const name = k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
          return [RESERVED_FIELDS.has(name) ? `event_${name}` : name, v];
        }),
      );
      audit.append(kind, fields).catch((err: unknown) => {
        log.error({ err: String(err) }, `audit ${kind} event could not be written`);
      });
    };

    const verifier = createVerifier({
      issuers: config.identity.issuers.map(issuerOptions),
      saml: config.identity.saml.map((p) => ({
        issuer: p.issuer,
        audience: p.audience,
        recipient: p.recipient,
        cert: readFileSync(p.cert_file, 'utf8'),
        clockSkewSeconds: p.clock_skew / 1000,
        requiredAttributes: p.required_attributes,
        subjectTemplate: p.subject,
        groupsAttribute: p.groups.attribute,
        groupTemplates: p.groups.templates,
      })),
      lockout: {
        maxAttempts: config.identity.lockout.max_attempts,
        durationMs: config.identity.lockout.duration,
        windowMs: config.identity.lockout.window,
      },
      maxCredentialBytes: config.identity.max_token_bytes,
      logger: log,
      onEvent: record('auth'),
    });
    stops.push(() => verifier.close());

    const { engine, bundles } = await startPolicy({
      policy: config.policy,
      builtins: hostBuiltins(),
      buildDir: (dir, { v0Compatible }) =>
        buildBundle({ paths: [dir], entrypoints: [config.policy.entrypoint], v0Compatible }),
      onEvent: (event) => {
        if (event.slot === 'active' && event.hash) {
          metrics.bundleInfo.reset();
          metrics.bundleInfo.set({ revision: event.revision, hash: event.hash }, 1);
        }
        record('bundle')(event);
      },
      onDivergence: (divergence) => record('bundle')({ event: 'shadow_divergence', ...divergence }),
      logger: log,
    });
    if (!bundles) log.warn('no policy.bundle configured: every statement is refused');
    stops.push(() => bundles?.close());

    const upstreamPassword = secretSource({
      name: 'upstream password',
      env: config.upstream.password_env,
      file: config.upstream.password_file,
    });
    const upstreamDatabase = (name: string) => config.upstream.databases[name]?.database ?? name;
    const analyzer = createAnalyzer({
      catalogConnection: (database) => ({
        host: config.upstream.host,
        port: config.upstream.port,
        user: config.upstream.user,
        password: upstreamPassword(),
        database: upstreamDatabase(database),
        ssl: upstreamTls(config) ?? false,
      }),
      logger: log,
    });

    const hmacKey =
      config.masking.hmac_key_env || config.masking.hmac_key_file
        ? Buffer.from(
            secretSource({
              name: 'masking HMAC key',
              env: config.masking.hmac_key_env,
              file: config.masking.hmac_key_file,
            })(),
          )
        : undefined;

    let http: Server | null = null;
    const approvals = await ApprovalService.start({
      store:
        config.approvals.store === 'postgres'
          ? await openPostgresStore({
              connectionString: secretSource({
                name: 'approvals store DSN',
                env: config.approvals.dsn_env,
                file: config.approvals.dsn_file,
              })(),
            })
          : await openFileStore(config.approvals.path),
      instance: config.instance_id,
      // With `http.port: 0` the port is known only once the server listens.
      publicUrl: () =>
        config.http.port === 0 && http
          ? config.approvals.public_url.replace(/:0$/, `:${(http.address() as AddressInfo).port}`)
          : config.approvals.public_url,
      defaultTimeoutMs: config.approvals.timeout,
      onEvent: (event) => {
        void approvals.list('pending').then((pending) => {
          metrics.approvalsPending.set(pending.length);
        });
        record('approval')(event);
      },
      onRequest: config.approvals.webhook_url
        ? (request) =>
            void postWebhook(config.approvals.webhook_url!, request, {
              retries: config.approvals.webhook_retries,
              logger: log,
            })
        : undefined,
    });

    stops.push(() => approvals.close());

    const tls = config.listen.tls;
    const gateway = await startGateway({
      listen: { host: config.listen.host, port: config.listen.port },
      tls: tls && { cert: readFileSync(tls.cert_file), key: readFileSync(tls.key_file) },
      allowPlaintextLoopback: config.listen.allow_plaintext_loopback,
      trustedProxies: config.listen.trusted_proxies,
      upstream: {
        host: config.upstream.host,
        port: config.upstream.port,
        user: config.upstream.user,
        password: upstreamPassword,
        database: upstreamDatabase,
        tls: upstreamTls(config),
        roleForGroups: (groups) => groups.map((g) => config.upstream.roles[g]).find(Boolean),
        allowSuperuser: config.upstream.allow_superuser,
        connectTimeoutMs: config.upstream.connect_timeout,
      },
      verifier,
      analyzer,
      decider: () => engine.decider(),
      audit,
      masker: createMaskerFactory({
        hmacKey,
        backstop: config.masking.backstop,
        binary: config.masking.binary,
        unknownLineage: config.masking.unknown_lineage,
      }),
      approvals,
      logger: log,
      maxMessageBytes: config.listen.max_message_bytes,
      maxConnections: config.listen.max_connections,
      shutdownGraceMs: config.listen.shutdown_grace,
      idleTimeoutMs: config.identity.idle_timeout,
      sessionGraceMs: config.identity.session_grace,
      oauthBearer: oauthBearer(config),
      decisionCache:
        config.policy.decision_cache_entries > 0
          ? { maxEntries: config.policy.decision_cache_entries }
          : false,
    });
    stops.push(async () => {
      await gateway.close();
      await audit.append('gateway', { event: 'stop' });
    });
    await audit.append('gateway', {
      event: 'start',
      listen: gateway.address,
      bundle: engine.active?.stamp ?? null,
    });

    http = config.http.enabled
      ? await startHttpServer({
          host: config.http.host,
          port: config.http.port,
          metrics,
          ready: () => engine.active !== null && !trail.failed,
          authenticate: (token, caller) => verifyBearer(verifier, `Bearer ${token}`, caller),
          adminGroups: config.http.admin_groups,
          bundles: bundles ?? undefined,
          auditJwks: () => trail.jwks(),
          routers: [{ path: '/', router: approvalsRouter(approvals) }],
        })
      : null;
    stops.push(
      () =>
        new Promise<void>((resolve) => {
          if (!http) return resolve();
          http.close(() => resolve());
          http.closeAllConnections();
        }),
    );
    log.info({ listen: gateway.address, http: config.http.enabled }, 'pgwarden started');

    return {
      gateway,
      http,
      engine,
      bundles,
      approvals,
      metrics,
      close: stopAll,
    };
  }
}

function issuerOptions(issuer: Config['identity']['issuers'][number]): IssuerOptions {
  const hsSecret =
    issuer.hs256_secret_env || issuer.hs256_secret_file
      ? secretSource({
          name: `HS256 secret of ${issuer.issuer}`,
          env: issuer.hs256_secret_env,
          file: issuer.hs256_secret_file,
        })
      : undefined;
  return {
    issuer: issuer.issuer,
    audiences: issuer.audiences,
    discovery: issuer.discovery,
    jwksUri: issuer.jwks_uri,
    jwksFile: issuer.jwks_file,
    algorithms: issuer.algorithms,
    hs256Secret: hsSecret,
    clockSkewSeconds: issuer.clock_skew / 1000,
    requiredClaims: issuer.required_claims,
    subjectTemplate: issuer.subject,
    groupsClaim: issuer.groups.claim,
    groupTemplates: issuer.groups.templates,
    jwksTimeoutMs: issuer.jwks_timeout,
    jwksCooldownMs: issuer.jwks_cooldown,
    jwksMaxAgeMs: issuer.jwks_max_age,
  };
}

/** SASL OAUTHBEARER on the listener, when asked for: tokens come from the first issuer. */
function oauthBearer(config: Config): { issuer: string } | undefined {
  if (!config.listen.oauthbearer) return undefined;
  const issuer = config.identity.issuers[0]?.issuer;
  if (!issuer) {
    throw new PgwardenError('ERR_CONFIG_INVALID', 'listen.oauthbearer needs identity.issuers');
  }
  return { issuer };
}

function upstreamTls(config: Config) {
  const { mode, ca_file, servername } = config.upstream.tls;
  if (mode === 'disable' || mode === 'prefer') return undefined;
  return {
    rejectUnauthorized: mode === 'verify-ca' || mode === 'verify-full',
    ca: ca_file ? readFileSync(ca_file) : undefined,
    servername,
  };
}
