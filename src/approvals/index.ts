/** Just-in-time approvals: hold one statement until authorised people decide. */
export { ApprovalService, type ApprovalEvent, type ApprovalServiceOptions } from './service.js';
export { approvalsRouter } from './router.js';
export { postWebhook, type WebhookOptions } from './webhook.js';
export { openPostgresStore } from './pg-store.js';
export {
  memoryStore,
  openFileStore,
  versionOf,
  type ApprovalRecord,
  type ApprovalStore,
  type GrantRecord,
  type RequestVersion,
} from './store.js';
