/**
 * The audit trail: append-only, hash-chained JSON-lines records with signed checkpoints, its
 * verifier, and the readers auditors use (query, session playback, OPA decision-log export).
 */
export type { AuditKind, AuditSink } from './types.js';
export { openAuditTrail, AuditTrail } from './trail.js';
export type { AuditTrailOptions, AuditStats } from './trail.js';
export { verifyAudit, loadJwksFile } from './verify.js';
export type { VerifyReport, VerifyFault, VerifyOptions, ChainSummary } from './verify.js';
export { loadOrCreateSigningKey, JWKS_FILE } from './keys.js';
export type { SigningKey, SigningKeyInput, JsonWebKeySet } from './keys.js';
export { GENESIS_HASH } from './record.js';
export type { AuditRecord } from './record.js';
export { maskCardNumbers } from './scrub.js';
