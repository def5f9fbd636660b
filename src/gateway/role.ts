/**
 * Defence in depth: the session assumes an upstream role chosen from the identity's groups, so
 * PostgreSQL's own grants and row-level security apply behind the policy.
 */
import {
  Backend,
  MessageFramer,
  parseErrorFields,
  parseReadyForQuery,
  queryMessage,
} from '../wire/index.js';
import { MessageReader } from './message-reader.js';
import { UpstreamError, type UpstreamConnection } from './upstream.js';

/** Runs `SET ROLE` on a fresh upstream connection before the client may send anything. */
export async function setRole(upstream: UpstreamConnection, role: string): Promise<void> {
  const reader = new MessageReader(upstream.socket, upstream.framer as MessageFramer);
  upstream.socket.resume();
  try {
    upstream.socket.write(queryMessage(`SET ROLE ${quoteIdent(role)}`));
    let failure: string | null = null;
    for (;;) {
      const msg = await reader.next(10_000);
      if (msg.type === Backend.ErrorResponse) failure = parseErrorFields(msg.body).M ?? 'error';
      if (msg.type === Backend.ParameterStatus)
        upstream.parameterMessages.push(Buffer.from(msg.raw));
      if (msg.type === Backend.ReadyForQuery) {
        upstream.status = parseReadyForQuery(msg.body);
        break;
      }
    }
    if (failure) throw new UpstreamError(`could not assume role ${role}: ${failure}`);
  } finally {
    upstream.socket.pause();
    upstream.pending.push(...reader.detach());
  }
}

/** Quotes an SQL identifier. */
export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}
