/**
 * Configuration of a gateway and the interfaces it plugs into. The lead's `pgwarden serve` builds
 * these from the configuration file; tests build them with small doubles.
 */
import type { AuditSink } from '../audit/types.js';
import type { IdentityVerifier } from '../identity/types.js';
import type { Logger } from '../logger.js';
import type { MaskerFactory } from '../masking/types.js';
import type { ApprovalGiven, ApprovalRequest, Decider } from '../policy/types.js';
import type { StatementAnalyzer } from '../sql/types.js';
import type { DecisionCacheOptions } from './decision-cache.js';

/** What a person decided about a held statement. */
export type ApprovalOutcome =
  | { status: 'approved'; approvals: ApprovalGiven[] }
  | { status: 'denied'; reason: string }
  | { status: 'timeout' };

/** A statement held for approval: where a person can decide, and the eventual outcome. */
export interface ApprovalTicket {
  /** Request id shown to the client in a NoticeResponse. */
  id: string;
  /** Web page where an approver decides. */
  url: string;
  /** Settles once a person decides or the request expires. */
  outcome: Promise<ApprovalOutcome>;
  /** Set when a live grant answered at once: its id (`id` is then the request that opened it). */
  grant?: string;
  /** Withdraws the request: its client cancelled the statement or went away. */
  cancel?(): void;
}

/** What the gateway tells the approvals service about a statement it holds. */
export interface HoldRequest {
  request: ApprovalRequest;
  /** Decision id of the decision that asked for approval. */
  decisionId: string;
  sessionId: string;
  statementId: string;
  subject: string;
  /** Issuer of the requester's identity: a grant is bound to issuer and subject together. */
  issuer?: string;
  groups: string[];
  database: string;
  /** The statement text as policy saw it (card-number-like literals masked). */
  text: string;
  fingerprint: string;
  reasons: string[];
}

/**
 * The approvals service as the gateway sees it. `hold` registers the request (or finds a live
 * grant, then the ticket's outcome is already approved) and never rejects for a denial: a denial
 * is an outcome. It rejects only when the request could not be registered.
 */
export interface ApprovalBroker {
  hold(request: HoldRequest): Promise<ApprovalTicket>;
}

/** TLS material for the client side: PEM certificate chain and key. */
export interface GatewayTls {
  cert: string | Buffer;
  key: string | Buffer;
}

/** How the gateway reaches PostgreSQL, with credentials clients never see. */
export interface UpstreamOptions {
  host: string;
  port: number;
  user: string;
  /** Called at each connect, so a rotated secret is picked up without a restart. */
  password: () => string;
  /** Maps the database the client asked for to the upstream one; identity when absent. */
  database?: (clientDatabase: string) => string;
  /** TLS to upstream; SCRAM-SHA-256-PLUS binds to it when the server offers it. */
  tls?: { rejectUnauthorized: boolean; ca?: string | Buffer; servername?: string };
  /** Upstream role the session assumes (`SET ROLE`) for the identity's groups. */
  roleForGroups?: (groups: string[]) => string | undefined;
  /** Allow an upstream account with superuser rights (refused by default). */
  allowSuperuser?: boolean;
  /** Database used for the start-up check of the upstream account; default `postgres`. */
  probeDatabase?: string;
  /** Connect timeout in milliseconds; default 10 000. */
  connectTimeoutMs?: number;
}

/** Everything {@link startGateway} needs. */
export interface GatewayOptions {
  /** Where to listen; port 0 picks a free port. */
  listen: { host: string; port: number };
  /** When set, SSLRequest is answered 'S' and TLS is negotiated. */
  tls?: GatewayTls;
  /** Tokens over plain TCP are accepted only from loopback, and only when this is true. */
  allowPlaintextLoopback: boolean;
  /** Addresses allowed to send a PROXY protocol v2 header (and required to send one). */
  trustedProxies?: string[];
  upstream: UpstreamOptions;
  verifier: IdentityVerifier;
  analyzer: StatementAnalyzer;
  /**
   * Called for every decision, so a new bundle applies to the next statement (hot swap). Must
   * return a different object after each swap (`() => engine.decider()`, not the engine): a
   * prepared statement's decision is reused at Execute only while this returns the same object.
   */
  decider: () => Decider;
  /** Every decision is appended (and awaited) before its statement is forwarded. */
  audit: AuditSink;
  /** Builds row maskers; without it a decision that masks columns is refused (fail closed). */
  masker?: MaskerFactory;
  /** Holds statements for approval; without it a decision asking for approval is refused. */
  approvals?: ApprovalBroker;
  logger?: Logger;
  /** Largest message accepted from a client or upstream; default 64 MiB. */
  maxMessageBytes?: number;
  /**
   * Reuse of decisions for statements that differ only in compared values (see
   * docs/gateway.md); on by default, `false` decides every statement afresh.
   */
  decisionCache?: DecisionCacheOptions | false;
  /**
   * A session with no statement in flight and nothing from the client for this long is closed
   * with FATAL 57P05 and audited (PCI DSS 8.2.8); default 15 minutes, 0 turns it off.
   */
  idleTimeoutMs?: number;
  /**
   * How long a session may outlive its identity's expiry (`identity.session_grace`); at the
   * deadline the statement in flight finishes, then the session ends with FATAL 28000. Default 0.
   */
  sessionGraceMs?: number;
  /**
   * Offer SASL OAUTHBEARER (PostgreSQL 18 libpq) instead of the cleartext password on this
   * listener. The server picks the method before it knows the client, so a listener speaks one
   * route: clients without OAUTHBEARER support need a password listener. `issuer` is announced
   * to clients that ask where to get a token.
   */
  oauthBearer?: { issuer: string; scope?: string };
  /** More client sessions than this are refused with 53300; default unlimited. */
  maxConnections?: number;
  /** At close, how long statements in flight may run before their sessions end; default 30 s. */
  shutdownGraceMs?: number;
  /**
   * `off` makes the gateway a plain relay once a client has logged in: bytes pass both ways as
   * they arrive, with no statement analysis, policy, masking or statement audit (session start
   * and end are still recorded). It exists to measure what enforcement costs against the same
   * handshake and sockets (bench/pgbench.js); the configuration file cannot set it. Default `on`.
   */
  enforcement?: 'on' | 'off';
}

/** A running gateway. */
export interface Gateway {
  /** The address it listens on (the chosen port when 0 was asked). */
  readonly address: { host: string; port: number };
  /** Number of client sessions open now. */
  sessions(): number;
  /** Stops listening, ends every session and waits for them to close. */
  close(): Promise<void>;
}
