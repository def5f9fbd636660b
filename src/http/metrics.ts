/**
 * Prometheus metrics. They are fed from the audit event stream (see `observeAudit`), so every
 * number on /metrics is backed by a record in the trail.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** The gateway's metrics, on their own registry. */
export interface GatewayMetrics {
  registry: Registry;
  statements: Counter<'outcome'>;
  decisionSeconds: Histogram;
  statementSeconds: Histogram;
  sessionsOpen: Gauge;
  bundleInfo: Gauge<'revision' | 'hash'>;
  auditWriteLagSeconds: Gauge;
  auditFailed: Gauge;
  approvalsPending: Gauge;
}

/** Creates the metrics on a fresh registry, with Node's default process metrics. */
export function createMetrics(): GatewayMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'pgwarden_process_' });
  const registers = [registry];
  return {
    registry,
    statements: new Counter({
      name: 'pgwarden_statements_total',
      help: 'Statements decided, by outcome (allow, deny, mask, approval)',
      labelNames: ['outcome'],
      registers,
    }),
    decisionSeconds: new Histogram({
      name: 'pgwarden_decision_seconds',
      help: 'Policy evaluation time per statement',
      buckets: [1e-6, 5e-6, 1e-5, 2.5e-5, 5e-5, 1e-4, 5e-4, 1e-3, 1e-2],
      registers,
    }),
    statementSeconds: new Histogram({
      name: 'pgwarden_statement_seconds',
      help: 'Statement execution time upstream, as seen by the gateway',
      buckets: [1e-4, 5e-4, 1e-3, 5e-3, 1e-2, 5e-2, 0.1, 0.5, 1, 5, 30],
      registers,
    }),
    sessionsOpen: new Gauge({ name: 'pgwarden_sessions_open', help: 'Open sessions', registers }),
    bundleInfo: new Gauge({
      name: 'pgwarden_bundle_info',
      help: 'The bundle in force (value 1), by revision and hash',
      labelNames: ['revision', 'hash'],
      registers,
    }),
    auditWriteLagSeconds: new Gauge({
      name: 'pgwarden_audit_write_lag_seconds',
      help: 'Time the newest audit record waited to become durable',
      registers,
    }),
    auditFailed: new Gauge({
      name: 'pgwarden_audit_failed',
      help: '1 while the audit sink cannot write (statements are refused meanwhile)',
      registers,
    }),
    approvalsPending: new Gauge({
      name: 'pgwarden_approvals_pending',
      help: 'Statements held for approval',
      registers,
    }),
  };
}

/** Updates the metrics from one audit event as the gateway appends it. */
export function observeAudit(
  metrics: GatewayMetrics,
  kind: string,
  fields: Record<string, unknown>,
): void {
  switch (kind) {
    case 'decision': {
      metrics.statements.inc({ outcome: outcomeOf(fields.decision) });
      const micros = Number(fields.eval_micros);
      if (Number.isFinite(micros) && fields.cached_from === undefined) {
        metrics.decisionSeconds.observe(micros / 1e6);
      }
      return;
    }
    case 'execution': {
      const micros = Number(fields.duration_us);
      if (Number.isFinite(micros)) metrics.statementSeconds.observe(micros / 1e6);
      return;
    }
    case 'session':
      if (fields.event === 'start') metrics.sessionsOpen.inc();
      else if (fields.event === 'end') metrics.sessionsOpen.dec();
      return;
    default:
      return;
  }
}

/** The label of a decision record: deny, approval (held), mask, or allow. */
function outcomeOf(decision: unknown): string {
  if (typeof decision !== 'object' || decision === null) return 'deny';
  const { allow, approval, mask } = decision as {
    allow?: unknown;
    approval?: unknown;
    mask?: Record<string, unknown>;
  };
  if (allow !== true) return 'deny';
  if (approval) return 'approval';
  return mask && Object.keys(mask).length > 0 ? 'mask' : 'allow';
}
