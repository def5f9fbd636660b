/**
 * Operational logging: JSON lines through pino. Library code takes a `Logger` (usually a child
 * carrying `session` or `request` ids) and never writes to the console. The audit trail is not a
 * log: it has its own writer in `src/audit`.
 */
import { pino, type Logger as PinoLogger } from 'pino';

/** The logger type every module accepts. */
export type Logger = PinoLogger;

/**
 * Fields whose values are never written, wherever they appear in a log object. Tokens, passwords
 * and result values stay out of logs.
 */
const REDACT = [
  'password',
  'token',
  'secret',
  'authorization',
  '*.password',
  '*.token',
  '*.secret',
  '*.authorization',
  'values',
  '*.values',
];

/** Creates the process logger. `level` defaults to `info`, or `silent` under tests. */
export function createLogger(
  options: { level?: string; destination?: number | string } = {},
): Logger {
  const level =
    options.level ?? process.env.PGWARDEN_LOG_LEVEL ?? (process.env.VITEST ? 'silent' : 'info');
  return pino(
    { level, base: { pid: process.pid }, redact: { paths: REDACT, censor: '[redacted]' } },
    pino.destination({ dest: options.destination ?? 2, sync: false }),
  );
}

/** A logger that drops everything, for tests and library defaults. */
export const silentLogger: Logger = pino({ level: 'silent' });
