/** The HTTP server: health, metrics, bundle status, audit keys, and the approvals API. */
export {
  createHttpApp,
  requireGroup,
  requireIdentity,
  startHttpServer,
  type AuthedRequest,
  type HttpCaller,
  type HttpOptions,
} from './server.js';
export { createMetrics, observeAudit, type GatewayMetrics } from './metrics.js';
