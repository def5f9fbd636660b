/**
 * Protocol violations found while framing or parsing. They carry the SQLSTATE the gateway answers
 * with (08P01 unless said otherwise) so the session can close that one connection cleanly.
 */
import { PgwardenError } from '../errors.js';

/** A malformed, oversized or unexpected message; the connection that sent it is closed. */
export class ProtocolError extends PgwardenError {
  /** SQLSTATE sent to the client in the ErrorResponse. */
  readonly sqlstate: string;

  constructor(message: string, sqlstate = '08P01') {
    super('ERR_PROTOCOL', message);
    this.name = 'ProtocolError';
    this.sqlstate = sqlstate;
  }
}
