/**
 * Operational logging: JSON lines through pino. Library code takes a `Logger` (usually a child
 * carrying `session` or `request` ids) and never writes to the console. The audit trail is not a
 * log: it has its own writer in `src/audit`.
 */
import { pino, type DestinationStream, type Logger as PinoLogger } from 'pino';

/** The logger type every module accepts. */
export type Logger = PinoLogger;

/** Log levels the configuration accepts, most severe first. */
export const LogLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/**
 * Keys whose values are never written. pino's redaction matches exact paths, so each key is
 * listed at the top level and up to three levels down; deeper nesting of such fields is not
 * expected in log objects (pass ids and counts to the logger, not whole messages or rows).
 * Tokens, passwords, keys, DSNs, bound parameters and result values stay out of logs.
 */
export const REDACTED_KEYS = [
  'password',
  'token',
  'secret',
  'authorization',
  'cookie',
  'dsn',
  'hmac_key',
  'private_key',
  'signing_key',
  'assertion',
  'pan',
  'values',
  'rows',
  'params',
  'parameters',
] as const;

const REDACT_PATHS = REDACTED_KEYS.flatMap((key) => [
  key,
  `*.${key}`,
  `*.*.${key}`,
  `*.*.*.${key}`,
]);

/** Options for {@link createLogger}. */
export interface LoggerOptions {
  /** Minimum level; `PGWARDEN_LOG_LEVEL`, then `info` (or `silent` under vitest) by default. */
  level?: string;
  /** A file descriptor or path to write to; standard error by default. */
  destination?: number | string;
  /** A stream to write to instead of `destination` (tests read their log lines this way). */
  stream?: DestinationStream;
}

/** Creates the process logger: JSON lines with ISO times and secrets redacted. */
export function createLogger(options: LoggerOptions = {}): Logger {
  const level =
    options.level ?? process.env.PGWARDEN_LOG_LEVEL ?? (process.env.VITEST ? 'silent' : 'info');
  const stream =
    options.stream ?? pino.destination({ dest: options.destination ?? 2, sync: false });
  return pino(
    {
      level,
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    },
    stream,
  );
}

/**
 * The logger for one client session: every line it writes carries `session`, so an operator
 * can follow one connection through the gateway's log.
 */
export function sessionLogger(
  parent: Logger,
  sessionId: string,
  fields: Record<string, string | number | boolean> = {},
): Logger {
  return parent.child({ session: sessionId, ...fields });
}

/** A logger that drops everything, for tests and library defaults. */
export const silentLogger: Logger = pino({ level: 'silent' });
