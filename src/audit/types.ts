/** The kinds of audit record. */
export type AuditKind =
  | 'gateway'
  | 'session'
  | 'auth'
  | 'decision'
  | 'execution'
  | 'response'
  | 'approval'
  | 'bundle'
  | 'checkpoint';

/**
 * Where the gateway sends audit events. `append` resolves once the record is as durable as the
 * configured durability asks (on disk and fsynced in `strict` mode), and rejects when it could not
 * be written: the caller then refuses the statement.
 */
export interface AuditSink {
  append(kind: AuditKind, fields: Record<string, unknown>): Promise<void>;
  /** True while the sink cannot write; new statements are refused meanwhile. */
  readonly failed: boolean;
}
