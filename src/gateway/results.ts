/**
 * One statement's result as it flows back to the client: row and byte counts, a running SHA-256
 * of the rows as sent, masking through a RowMasker when the decision asks for it, the decision's
 * row and byte caps, and the `execution` and `response` audit records at the end.
 */
import { createHash, hash as oneShotHash, type Hash } from 'node:crypto';
import { PgwardenError } from '../errors.js';
import type { Logger } from '../logger.js';
import { CopyOutStream, DEFAULT_COPY_OPTIONS, copyResultColumns } from '../masking/index.js';
import type { MaskerFactory, ResultField, RowMasker } from '../masking/types.js';
import type { OutputLineage } from '../sql/types.js';
import type { DecidedStatement, StatementDecider } from './decisions.js';

/** SHA-256 of no rows, the digest of most results that return nothing. */
const EMPTY_SHA256 = oneShotHash('sha256', Buffer.alloc(0), 'hex');

/**
 * Rows are held (as references to the chunks they arrived in) up to this many bytes before they
 * are fed to the hash in one update. Most results are a few rows: one one-shot hash at the end
 * costs far less than a Hash object and an update per row.
 */
const HASH_BATCH_BYTES = 64 * 1024;

/** Session-wide things every run needs. */
export interface RunContext {
  decider: StatementDecider;
  masker?: MaskerFactory;
  logger: Logger;
}

/** A decided statement with the column names resolved for masking (when it masks). */
export interface ExecutableStatement extends DecidedStatement {
  /** `schema.table.column` of a RowDescription field's table OID and attribute number. */
  columnName?: (tableOid: number, columnAttr: number) => string | undefined;
}

/** Raised when a result cannot be passed on safely; the session ends with this error. */
export class ResultError extends PgwardenError {
  constructor(
    message: string,
    readonly sqlstate: string,
  ) {
    super('ERR_PROTOCOL', message);
    this.name = 'ResultError';
  }
}

/**
 * A result passed the decision's row or byte cap. The row that crossed it is not sent; the
 * response flow ends the statement with this error (54000) and cancels it upstream.
 */
export class LimitExceeded extends ResultError {
  constructor(message: string) {
    super(message, '54000');
    this.name = 'LimitExceeded';
  }
}

/** Tracks one execution of one statement (or one Execute of a portal). */
export class StatementRun {
  private rows = 0;
  private bytes = 0;
  private hash: Hash | null = null;
  /** Rows sent but not yet hashed (see HASH_BATCH_BYTES). */
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private masker: RowMasker | null = null;
  /** COPY ... TO STDOUT output, from its CopyOutResponse on. */
  private copy: CopyOutStream | null = null;
  private fields: ResultField[] | null = null;
  private readonly started = performance.now();
  private finished = false;
  /** True when the decision masks columns, so rows cannot go out before fields are known. */
  readonly needsMasking: boolean;
  /**
   * True when a masker is configured: then every row of every result passes through it, so the
   * card-number backstop sees what lineage did not mark (a user function's output, a view).
   */
  readonly scans: boolean;

  constructor(
    readonly statement: ExecutableStatement | undefined,
    private readonly context: RunContext,
  ) {
    this.needsMasking = !!statement && masksReach(statement.facts.outputs, statement.decision.mask);
    this.scans = !!statement && !!context.masker;
  }

  /** The result's columns are known (RowDescription, or a Describe earlier). */
  describe(fields: ResultField[]): void {
    this.fields = fields;
    if (!this.scans || !this.statement) return;
    const factory = this.context.masker;
    if (!factory) throw new ResultError('masking is required but not configured', '42501');
    const columnName = this.statement.columnName ?? (() => undefined);
    try {
      this.masker = factory({
        fields,
        outputs: this.statement.facts.outputs,
        masks: this.statement.decision.mask,
        columnName,
      });
    } catch (err) {
      this.context.logger.warn({ err }, 'masker could not be built');
      throw new ResultError(`result cannot be masked: ${(err as Error).message}`, '42501');
    }
  }

  /** Passes one DataRow message; returns the message to send. */
  row(message: Buffer): Buffer {
    // Rows of a statement nobody decided (an empty analysis) never go out.
    if (!this.statement) throw new ResultError('rows of an undecided statement', '42501');
    if (this.scans) {
      if (!this.masker) throw new ResultError('rows arrived before their description', '42501');
      if (this.masker.active) message = this.transform(this.masker, message);
    }
    this.count(message, 1);
    return message;
  }

  /**
   * COPY ... TO STDOUT starts (CopyOutResponse: int8 overall format, int16 column count, a
   * format per column). Its rows come in the format the statement's options name; text and CSV
   * both report format 0. `clientEncoding` is the session's, which the output is in unless the
   * statement names an ENCODING.
   */
  copyOut(body: Buffer, clientEncoding = 'UTF8'): void {
    if (!this.statement) throw new ResultError('rows of an undecided statement', '42501');
    const binary = body[0] === 1;
    const columns = body.readInt16BE(1);
    const given = this.statement.facts.copyOptions;
    if (!given && this.needsMasking) {
      throw new ResultError('result cannot be masked: COPY options unknown', '42501');
    }
    const options = given ?? DEFAULT_COPY_OPTIONS;
    if (binary !== (options.format === 'binary')) {
      throw new ResultError('COPY output is not in the format its statement names', '08P01');
    }
    const factory = this.context.masker;
    try {
      let masker: RowMasker | null = null;
      if (this.scans && factory) {
        const result = copyResultColumns(columns, this.statement.facts.outputs, binary);
        masker = factory({
          ...result,
          masks: this.statement.decision.mask,
          columnName: () => undefined,
        });
      }
      const encoding = options.encoding ?? clientEncoding;
      this.copy = new CopyOutStream(options, columns, masker, encoding);
    } catch (err) {
      this.context.logger.warn({ err }, 'COPY masker could not be built');
      throw new ResultError(`result cannot be masked: ${(err as Error).message}`, '42501');
    }
  }

  /**
   * Passes one CopyData message of COPY ... TO STDOUT; returns the CopyData to send, or null
   * when the message only began a row (its rest is in a later message).
   */
  copyData(message: Buffer): Buffer | null {
    if (!this.statement) throw new ResultError('rows of an undecided statement', '42501');
    if (!this.copy) throw new ResultError('CopyData before CopyOutResponse', '08P01');
    let chunk;
    try {
      chunk = this.copy.data(message);
    } catch (err) {
      // A row the stream cannot read is never passed on unmasked.
      this.context.logger.warn({ err }, 'COPY row could not be masked');
      throw new ResultError(`result cannot be masked: ${(err as Error).message}`, '42501');
    }
    if (chunk.message) this.count(chunk.message, chunk.rows);
    return chunk.message;
  }

  /** CopyDone: the COPY data must not end inside a row. */
  copyDone(): void {
    try {
      this.copy?.end();
    } catch (err) {
      throw new ResultError((err as Error).message, '08P01');
    }
  }

  /** Counts and hashes what is sent; throws LimitExceeded past the decision's caps. */
  private count(message: Buffer, rows: number): void {
    this.rows += rows;
    this.bytes += message.length;
    this.pending.push(message);
    this.pendingBytes += message.length;
    if (this.pendingBytes >= HASH_BATCH_BYTES) this.hashPending();
    const decision = this.statement?.decision;
    if (decision?.rowLimit != null && this.rows > decision.rowLimit) {
      throw new LimitExceeded(
        `row limit of ${decision.rowLimit} exceeded (decision ${decision.id})`,
      );
    }
    if (decision?.byteLimit != null && this.bytes > decision.byteLimit) {
      throw new LimitExceeded(
        `byte limit of ${decision.byteLimit} exceeded (decision ${decision.id})`,
      );
    }
  }

  private transform(masker: RowMasker, message: Buffer): Buffer {
    try {
      return masker.transformRow(message);
    } catch (err) {
      // A row the masker cannot read is never passed on unmasked.
      this.context.logger.warn({ err }, 'row could not be masked');
      throw new ResultError(`result cannot be masked: ${(err as Error).message}`, '42501');
    }
  }

  /** Feeds the held rows to the running hash in one update. */
  private hashPending(): void {
    const rows = this.pending;
    if (rows.length === 0) return;
    const hash = (this.hash ??= createHash('sha256'));
    hash.update(rows.length === 1 ? rows[0]! : Buffer.concat(rows, this.pendingBytes));
    this.pending = [];
    this.pendingBytes = 0;
  }

  /** SHA-256 (hex) of every row as sent, in order. */
  private digest(): string {
    if (this.hash) {
      this.hashPending();
      return this.hash.digest('hex');
    }
    const rows = this.pending;
    this.pending = [];
    if (rows.length === 0) return EMPTY_SHA256;
    const all = rows.length === 1 ? rows[0]! : Buffer.concat(rows, this.pendingBytes);
    return oneShotHash('sha256', all, 'hex');
  }

  /** Whether the statement is a COPY (its result has no RowDescription). */
  get isCopy(): boolean {
    return !!this.statement?.facts.copy;
  }

  /** Whether a RowDescription has been seen for this run. */
  get described(): boolean {
    return this.fields !== null;
  }

  /** Ends the run: records `execution` and `response` (best effort; decisions were awaited). */
  finish(outcome: { tag?: string; error?: { code: string; message: string } }): void {
    if (this.finished || !this.statement) return;
    this.finished = true;
    const statement = this.statement;
    const micros = Math.round((performance.now() - this.started) * 1000);
    const { decider, logger } = this.context;
    // Plain literals (no spread of a shared base): these two run for every statement.
    decider
      .audit('execution', {
        statement_id: statement.id,
        decision_id: statement.decision.id,
        command_tag: outcome.tag ?? null,
        rows: this.rows,
        duration_us: micros,
        error: outcome.error ?? null,
      })
      .catch((err: unknown) => logger.error({ err }, 'audit append failed'));
    decider
      .audit('response', {
        statement_id: statement.id,
        decision_id: statement.decision.id,
        rows: this.rows,
        bytes: this.bytes,
        sha256: this.digest(),
        masked: this.copy ? this.copy.stats() : this.masker ? this.masker.stats() : null,
      })
      .catch((err: unknown) => logger.error({ err }, 'audit append failed'));
  }
}

/**
 * Whether a decision's masks can touch this statement's result. Policies often attach one mask
 * map to every statement of an identity; a result whose lineage names none of the masked columns
 * (nor a whole row of their tables, nor an unknown source) needs no column masking, which saves
 * a Describe and a masker per Execute. The card-number backstop still scans its rows. A
 * statement without known outputs keeps its masks: rows it returns cannot be ruled out.
 */
export function masksReach(outputs: OutputLineage[], mask: Record<string, unknown>): boolean {
  // A reused decision shares its outputs and mask objects with the cached one: answer once.
  const known = reachMemo.get(outputs);
  if (known && known.mask === mask) return known.reaches;
  const reaches = computeReach(outputs, mask);
  reachMemo.set(outputs, { mask, reaches });
  return reaches;
}

/** masksReach's last answer per outputs array (facts are frozen and shared, so this holds). */
const reachMemo = new WeakMap<OutputLineage[], { mask: object; reaches: boolean }>();

function computeReach(outputs: OutputLineage[], mask: Record<string, unknown>): boolean {
  const columns = Object.keys(mask);
  if (columns.length === 0) return false;
  if (outputs.length === 0) return true;
  const tables = new Set(columns.map((c) => c.slice(0, c.lastIndexOf('.'))));
  return outputs.some(
    (o) => o.unknown || o.sources.some((s) => s in mask) || o.wholeRow.some((t) => tables.has(t)),
  );
}

/** Applies Bind's result format codes to a statement's fields (Describe 'S' reports text). */
export function withFormats(fields: ResultField[], formats: number[]): ResultField[] {
  if (formats.length === 0) return fields;
  return fields.map((field, i) => ({
    ...field,
    format: formats.length === 1 ? formats[0]! : (formats[i] ?? 0),
  }));
}
