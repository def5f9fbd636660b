/**
 * The audit trail: append-only, hash-chained JSON-lines records with signed checkpoints, its
 * verifier, and the readers auditors use (query, session playback, OPA decision-log export,
 * replay, the HTML evidence report).
 */
export type { AuditKind, AuditSink } from './types.js';
export { openAuditTrail, AuditTrail } from './trail.js';
export type { AuditTrailOptions, AuditStats, TrailStore, ChainHead } from './trail.js';
export { openAuditSink, OpenedAuditSink } from './sink.js';
export type { AuditConfig, AuditSinkContext } from './sink.js';
export { openPostgresAuditStore, auditTableDdl, AUDIT_TABLE } from './postgres.js';
export type { PostgresStore, PostgresStoreOptions } from './postgres.js';
export { Forwarder } from './forward.js';
export type { ForwardTarget, ForwarderOptions, ForwardStats } from './forward.js';
export { applyRetention } from './retention.js';
export type { RetentionResult } from './retention.js';
export type { SealedLine } from './destination.js';
export { verifyAudit, loadJwksFile } from './verify.js';
export type { VerifyReport, VerifyFault, VerifyOptions, ChainSummary } from './verify.js';
export { loadOrCreateSigningKey, JWKS_FILE } from './keys.js';
export type { SigningKey, SigningKeyInput, JsonWebKeySet } from './keys.js';
export { GENESIS_HASH, RESERVED_FIELDS } from './record.js';
export type { AuditRecord } from './record.js';
export { maskCardNumbers } from './scrub.js';
export { queryAudit, readTrail, toOpaDecisionLog } from './query.js';
export type { QueryFilter } from './query.js';
export { replayDecision } from './replay.js';
export type { ReplayEvaluator, ReplayEvaluation, ReplayReport } from './replay.js';
export { buildEvidenceReport } from './report.js';
export type { EvidenceReportOptions } from './report.js';
