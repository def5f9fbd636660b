/**
 * The gateway: a PostgreSQL v3 relay that authenticates clients by token, connects upstream with
 * vaulted credentials, and decides every statement before forwarding it.
 */
export { startGateway } from './server.js';
export type {
  ApprovalBroker,
  ApprovalOutcome,
  ApprovalTicket,
  Gateway,
  GatewayOptions,
  GatewayTls,
  HoldRequest,
  UpstreamOptions,
} from './options.js';
export type { Refusal } from './decisions.js';
export type { DecisionCacheOptions } from './decision-cache.js';
export { DEFAULT_IDLE_TIMEOUT_MS } from './session.js';
export { REFUSED_SQL } from './client-flow.js';
export { ScramClient, md5Password } from './scram.js';
