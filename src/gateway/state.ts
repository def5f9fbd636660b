/**
 * State shared by the two directions of a session: what the client side predicted (statements
 * and portals as they will be once upstream processes what was sent) and what upstream confirmed
 * (ParseComplete, BindComplete, CloseComplete), plus the queue of responses still expected.
 *
 * Decisions are made on the predicted state, since a pipelining client sends Execute before
 * upstream has answered the Parse and Bind before it. Before the first row of an Execute goes
 * out, the response side checks that the portal upstream actually runs is the one that was
 * decided; if an earlier error made the prediction wrong, the session ends (fail closed).
 */
import type { ResultField } from '../masking/types.js';
import type { Refusal } from './decisions.js';
import type { ExecutableStatement, StatementRun } from './results.js';

/** A prepared statement as the gateway knows it. `statements` is empty for an empty query. */
export interface PreparedStatement {
  name: string;
  statements: ExecutableStatement[];
  /** Fields from a Describe of the statement (formats all text). */
  fields?: ResultField[];
  /** The client sent Describe for it, so its fields will be known before rows arrive. */
  described?: boolean;
}

/** A portal: a bound statement with its result formats. */
export interface Portal {
  name: string;
  /** Undefined when the statement was not prepared through this session (refused at Execute). */
  statement: PreparedStatement | undefined;
  resultFormats: number[];
  fields?: ResultField[];
  /** The client sent Describe for it (see PreparedStatement.described). */
  described?: boolean;
}

/** What one message sent upstream will produce, in order. */
export type Slot =
  | {
      kind: 'query';
      runs: StatementRun[];
      index: number;
      refusal?: Refusal;
    }
  | { kind: 'parse'; statement: PreparedStatement; refusal?: Refusal }
  | { kind: 'bind'; portal: Portal; statementName: string }
  | { kind: 'describe'; target: 'S' | 'P'; name: string; swallow: boolean }
  | { kind: 'execute'; run: StatementRun; portal: Portal; checked: boolean; refusal?: Refusal }
  | { kind: 'close'; target: 'S' | 'P'; name: string }
  | { kind: 'sync' };

/**
 * A change of search_path sent upstream whose outcome is not known yet. PostgreSQL reports the
 * new value (ParameterStatus, PostgreSQL 18) just before the ReadyForQuery that answers `slot`,
 * the first Sync or Query sent after the change; until then later statements cannot be analysed
 * against the right schemas.
 */
export interface PathChange {
  slot: Slot | null;
  settled: Promise<void>;
  settle: () => void;
}

/** Both views of the session's statements and portals. */
export class ProtocolState {
  /** As they will be once upstream has processed everything sent (used for decisions). */
  readonly predictedStatements = new Map<string, PreparedStatement>();
  readonly predictedPortals = new Map<string, Portal>();
  /** As upstream has confirmed them (used to check before rows go out). */
  readonly committedStatements = new Map<string, PreparedStatement>();
  readonly committedPortals = new Map<string, Portal>();
  /** Responses still expected, oldest first. */
  readonly slots: Slot[] = [];
  /** A masker is configured: fields of every result are kept so every row can be scanned. */
  scanRows = false;
  /** The session's client_encoding as upstream reported it (COPY output is in it). */
  clientEncoding = 'UTF8';
  /** Transaction status from the last ReadyForQuery: 'I' idle, 'T' in a block, 'E' failed. */
  status: 'I' | 'T' | 'E' = 'I';

  /**
   * Whether a transaction block is open (or failed) once everything already sent has run. A
   * pipelining client sends statements before upstream reports the status of earlier ones, so
   * the client side advances this from what it forwards (BEGIN, COMMIT, ...), and the response
   * side resets it from ReadyForQuery whenever no answer is outstanding.
   */
  inTransaction = false;

  /**
   * The session's search_path as upstream last reported it after start (schema names, `$user`
   * resolved); undefined while it is the one the session started with.
   */
  searchPath: string[] | undefined;
  /** The pending search_path change, if any. */
  pathChange: PathChange | null = null;
  /** DDL was sent since the last ReadyForQuery outside a transaction block. */
  ddlSent = false;

  /** Marks a search_path change just forwarded; the next Sync or Query settles it. */
  changePath(): void {
    if (this.pathChange && this.pathChange.slot === null) return;
    let settle!: () => void;
    const settled = new Promise<void>((resolve) => (settle = resolve));
    this.pathChange = { slot: null, settled, settle };
  }

  /** Queues the slot of a message sent upstream. */
  push(slot: Slot): void {
    this.slots.push(slot);
    if (this.pathChange?.slot === null && (slot.kind === 'sync' || slot.kind === 'query')) {
      this.pathChange.slot = slot;
    }
  }

  /** A Sync or Query slot is answered (or dropped): a change it settles is now known. */
  answered(slot: Slot): void {
    if (this.pathChange && this.pathChange.slot === slot) {
      this.pathChange.settle();
      this.pathChange = null;
    }
  }

  /** Records the status of a ReadyForQuery. */
  ready(status: 'I' | 'T' | 'E'): void {
    this.status = status;
    if (this.slots.length === 0) this.inTransaction = status !== 'I';
  }

  /** Forgets every prepared statement (after DEALLOCATE or DISCARD, whose target is unknown). */
  forgetStatements(view: 'predicted' | 'committed'): void {
    if (view === 'predicted') this.predictedStatements.clear();
    else this.committedStatements.clear();
  }
}
