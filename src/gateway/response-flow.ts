/**
 * The upstream-to-client direction of a session. Each message is matched to the slot of the
 * client message that caused it, so rows are counted, hashed and masked for the right statement,
 * refusals replace the stand-in's syntax error, and the confirmed statement and portal state is
 * kept. Messages the gateway does not change are returned as the bytes upstream sent.
 */
import { maskCardNumbers, maskNotificationResponse } from '../masking/index.js';
import type { ResultField } from '../masking/types.js';
import {
  Backend,
  errorResponse,
  fieldsMessage,
  parseCommandComplete,
  parseErrorFields,
  parseReadyForQuery,
  parseRowDescription,
  type WireMessage,
} from '../wire/index.js';
import { withholdError } from './error-text.js';
import { LimitExceeded, ResultError, withFormats, type StatementRun } from './results.js';
import type { PreparedStatement, ProtocolState, Slot } from './state.js';

/** What the response flow tells its session. */
export interface ResponseHooks {
  /** DDL has run outside a transaction block or its transaction committed. */
  catalogChanged?: () => void;
  /** Whom `$user` in search_path names: the role the session runs as upstream. */
  pathUser?: () => string;
  /**
   * A statement passed its limit: cancel it upstream. `skipToSync` is true when the client has
   * not sent the Sync of that pipeline yet, so its next messages up to Sync must be dropped.
   */
  limitExceeded?: (skipToSync: boolean) => void;
}

/** A statement over its limit, and what upstream did after it. */
interface Limited {
  slot: Slot;
  /** Upstream reported an error for it (the cancel landed): everything after was skipped. */
  sawError: boolean;
  /** Upstream finished it anyway. */
  completed: boolean;
  /** Upstream sent responses of later messages: they ran. */
  beyond: boolean;
  /** A SELECT with nothing after it in its query string. */
  harmless: boolean;
}

/** Routes upstream messages; returns what to send the client, or null to send nothing. */
export class ResponseFlow {
  /** True from an error in extended mode until the ReadyForQuery that answers Sync. */
  private skipping = false;
  /** Set from a statement passing its row or byte limit until the next ReadyForQuery. */
  private limited: Limited | null = null;
  /** The last RowDescription parsed (see fieldsOf). */
  private lastDescription: { bytes: Buffer; fields: ResultField[] } | null = null;

  constructor(
    private readonly state: ProtocolState,
    private readonly hooks: ResponseHooks = {},
  ) {}

  /**
   * Fields of a RowDescription body. A session mostly runs the same few statements, so the
   * last description is kept (a copy of its bytes) and reused while the bytes are the same:
   * comparing them costs less than parsing. Fields are never changed once parsed.
   */
  private fieldsOf(body: Buffer): ResultField[] {
    const last = this.lastDescription;
    if (last && last.bytes.equals(body)) return last.fields;
    const fields = parseRowDescription(body);
    this.lastDescription = { bytes: Buffer.from(body), fields };
    return fields;
  }

  /** True while a statement over its limit waits for its ReadyForQuery. */
  get limitPending(): boolean {
    return this.limited !== null;
  }

  /** Handles one upstream message. Throws ResultError when the result cannot go out safely. */
  handle(msg: WireMessage): Buffer | null {
    if (this.limited) return this.afterLimit(this.limited, msg);
    const slot = this.state.slots[0];
    switch (msg.type) {
      case Backend.DataRow:
      case Backend.CopyData: {
        const run = this.runOf(slot, msg);
        try {
          return msg.type === Backend.DataRow ? run.row(msg.raw) : run.copyData(msg.raw);
        } catch (err) {
          if (err instanceof LimitExceeded) return this.limit(slot!, run, err);
          throw err;
        }
      }
      case Backend.RowDescription:
        return this.rowDescription(slot, msg);
      case Backend.CommandComplete:
      case Backend.EmptyQueryResponse:
      case Backend.PortalSuspended:
        return this.complete(slot, msg);
      case Backend.ParameterDescription:
        return slot?.kind === 'describe' && slot.swallow ? null : msg.raw;
      case Backend.NoData:
        return this.describeDone(slot, msg, undefined);
      case Backend.ParseComplete:
        if (slot?.kind !== 'parse') throw unexpected(msg);
        this.state.committedStatements.set(slot.statement.name, slot.statement);
        this.state.slots.shift();
        return msg.raw;
      case Backend.BindComplete:
        if (slot?.kind !== 'bind') throw unexpected(msg);
        this.state.committedPortals.set(slot.portal.name, {
          ...slot.portal,
          statement: this.state.committedStatements.get(slot.statementName),
        });
        this.state.slots.shift();
        return msg.raw;
      case Backend.CloseComplete:
        if (slot?.kind !== 'close') throw unexpected(msg);
        if (slot.target === 'S') this.state.committedStatements.delete(slot.name);
        else this.state.committedPortals.delete(slot.name);
        this.state.slots.shift();
        return msg.raw;
      case Backend.ErrorResponse:
        return this.error(slot, msg);
      case Backend.ReadyForQuery:
        return this.readyForQuery(msg);
      case Backend.CopyInResponse:
        if (slot?.kind === 'execute') this.check(slot);
        return msg.raw;
      case Backend.CopyOutResponse:
        // COPY ... TO STDOUT: its CopyData is read by the format its statement names.
        this.runOf(slot, msg).copyOut(msg.body, this.state.clientEncoding);
        return msg.raw;
      case Backend.NoticeResponse:
        return scrubbed(withholdError(slot, msg));
      case Backend.ParameterStatus:
        this.parameterStatus(msg.body);
        return msg.raw;
      case Backend.CopyDone:
        this.runOf(slot, msg).copyDone();
        return msg.raw;
      case Backend.NotificationResponse:
        // Any statement can put a card number in a payload: pg_notify('ch', pan).
        return maskNotificationResponse(msg.raw);
      case Backend.FunctionCallResponse:
        return msg.raw;
      default:
        throw unexpected(msg);
    }
  }

  private readyForQuery(msg: WireMessage): Buffer {
    const status = parseReadyForQuery(msg.body);
    // Portals end with their transaction.
    if (status === 'I') this.state.committedPortals.clear();
    // This answers the oldest Sync or Query. Extended messages queued before it got no
    // answer: an error made upstream skip them (possibly sent after that error arrived).
    // While upstream skips to Sync it ignores Query messages too, so only Sync answers.
    while (this.state.slots.length > 0) {
      const done = this.state.slots.shift()!;
      this.state.answered(done);
      if (done.kind === 'sync' || (done.kind === 'query' && !this.skipping)) break;
    }
    this.skipping = false;
    if (status === 'I' && this.state.ddlSent) {
      // Committed (or rolled back, which costs only a reload): the catalog may differ now.
      if (this.state.slots.length === 0) this.state.ddlSent = false;
      this.hooks.catalogChanged?.();
    }
    this.state.ready(status);
    return msg.raw;
  }

  /**
   * A statement passed its row or byte limit: the client gets 54000 for it instead of the row,
   * and upstream is asked to cancel it, which aborts the rest of the query string or pipeline
   * and an open transaction block, as the client now believes. Until the ReadyForQuery, the
   * rest of the statement's response is dropped.
   */
  private limit(slot: Slot, run: StatementRun, err: LimitExceeded): Buffer {
    run.finish({ error: { code: '54000', message: err.message } });
    const last = slot.kind !== 'query' || slot.index === slot.runs.length - 1;
    this.limited = {
      slot,
      sawError: false,
      completed: false,
      beyond: false,
      harmless: readsOnly(run) && last,
    };
    const syncQueued = this.state.slots.some((s) => s !== slot && s.kind === 'sync');
    this.hooks.limitExceeded?.(slot.kind === 'execute' && !syncQueued);
    return errorResponse({ severity: 'ERROR', code: '54000', message: err.message });
  }

  /**
   * Upstream messages after a limit was passed. Upstream and client agree when the cancel
   * stopped the statement (its ErrorResponse), or when it had finished anyway, was a SELECT,
   * nothing ran after it and no transaction block is open. Otherwise the session ends: the
   * client saw an error for a statement, or the statements after it, that upstream ran.
   */
  private afterLimit(limited: Limited, msg: WireMessage): Buffer | null {
    switch (msg.type) {
      case Backend.ReadyForQuery: {
        this.limited = null;
        const status = parseReadyForQuery(msg.body);
        const agreed = limited.sawError || (!limited.beyond && limited.harmless && status === 'I');
        if (!agreed) {
          throw new ResultError(
            'a statement over its row or byte limit could not be stopped upstream',
            '54000',
          );
        }
        this.skipping = limited.slot.kind !== 'query';
        return this.readyForQuery(msg);
      }
      case Backend.ErrorResponse:
        // Before the statement finished, this is the cancel (or another error) stopping it.
        if (limited.completed) limited.beyond = true;
        else limited.sawError = true;
        return null;
      case Backend.ParameterStatus:
        this.parameterStatus(msg.body);
        return msg.raw;
      case Backend.NoticeResponse:
        return scrubbed(withholdError(limited.slot, msg));
      case Backend.NotificationResponse:
        return maskNotificationResponse(msg.raw);
      case Backend.DataRow:
      case Backend.CopyData:
        if (limited.completed) limited.beyond = true;
        return null;
      case Backend.CopyDone:
        return null;
      case Backend.CommandComplete:
      case Backend.PortalSuspended:
        // The limited statement's own end; anything that ends later ran after it.
        if (limited.completed) limited.beyond = true;
        limited.completed = true;
        return null;
      default:
        limited.beyond = true;
        return null;
    }
  }

  /** PostgreSQL 18 reports search_path changes; later statements are analysed against them. */
  private parameterStatus(body: Buffer): void {
    // Name and value, each NUL-terminated; search_path and client_encoding matter here.
    const end = body.indexOf(0);
    if (end === 15 && body.toString('latin1', 0, end) === 'client_encoding') {
      // COPY output is written in it (see CopyOutStream).
      this.state.clientEncoding = body.toString('latin1', end + 1, body.indexOf(0, end + 1));
      return;
    }
    if (end !== 'search_path'.length || body.toString('latin1', 0, end) !== 'search_path') return;
    const value = body.toString('utf8', end + 1, body.indexOf(0, end + 1));
    this.state.searchPath = parseSearchPath(value, this.hooks.pathUser?.() ?? '');
  }

  private runOf(slot: Slot | undefined, msg: WireMessage): StatementRun {
    if (slot?.kind === 'query') {
      const run = slot.runs[slot.index];
      if (run) return run;
    } else if (slot?.kind === 'execute') {
      this.check(slot);
      return slot.run;
    }
    // Rows for a statement that was never decided: never pass them on.
    throw unexpected(msg);
  }

  private rowDescription(slot: Slot | undefined, msg: WireMessage): Buffer | null {
    if (slot?.kind === 'describe') return this.describeDone(slot, msg, msg.body);
    if (slot?.kind !== 'query') throw unexpected(msg);
    const run = slot.runs[slot.index];
    if (!run) throw unexpected(msg);
    if (run.scans) run.describe(this.fieldsOf(msg.body));
    return msg.raw;
  }

  private describeDone(
    slot: Slot | undefined,
    msg: WireMessage,
    fieldsBody: Buffer | undefined,
  ): Buffer | null {
    if (slot?.kind !== 'describe') throw unexpected(msg);
    this.state.slots.shift();
    // Parsed only for a statement that masks: the hot path never needs the fields.
    if (fieldsBody && slot.target === 'S') {
      const statement = this.state.committedStatements.get(slot.name);
      if (statement && (this.state.scanRows || masks(statement))) {
        statement.fields = this.fieldsOf(fieldsBody);
      }
    } else if (fieldsBody) {
      const portal = this.state.committedPortals.get(slot.name);
      const wanted = slot.swallow || this.state.scanRows;
      if (portal && (wanted || (portal.statement && masks(portal.statement)))) {
        portal.fields = this.fieldsOf(fieldsBody);
      }
    }
    return slot.swallow ? null : msg.raw;
  }

  private complete(slot: Slot | undefined, msg: WireMessage): Buffer {
    const tag = msg.type === Backend.CommandComplete ? parseCommandComplete(msg.body) : undefined;
    // 0x44 'D': test the regular expression only for the rare tags that can match it.
    if (tag?.charCodeAt(0) === 0x44 && /^(DEALLOCATE|DISCARD)/.test(tag)) {
      this.state.forgetStatements('committed');
    }
    if (slot?.kind === 'query') {
      slot.runs[slot.index]?.finish({ tag: tag ?? '' });
      slot.index++;
      return msg.raw;
    }
    if (slot?.kind !== 'execute') throw unexpected(msg);
    this.check(slot);
    slot.run.finish({ tag: tag ?? (msg.type === Backend.PortalSuspended ? 'suspended' : '') });
    this.state.slots.shift();
    return msg.raw;
  }

  private error(slot: Slot | undefined, msg: WireMessage): Buffer {
    if (!slot) return scrubbed(msg);
    msg = withholdError(slot, msg); // client and audit: no error text from masked statements
    const fields = parseErrorFields(msg.body);
    // The audit keeps the message, never a card number PostgreSQL quoted in it.
    const error = { code: fields.C ?? '', message: maskCardNumbers(fields.M ?? '') };
    if (slot.kind === 'query') {
      slot.runs[slot.index]?.finish({ error });
      return slot.refusal ? errorResponse({ severity: 'ERROR', ...slot.refusal }) : scrubbed(msg);
    }
    let out = scrubbed(msg);
    if ((slot.kind === 'parse' || slot.kind === 'execute') && slot.refusal) {
      out = errorResponse({ severity: 'ERROR', ...slot.refusal });
    }
    if (slot.kind === 'execute') slot.run.finish({ error });
    // Upstream now discards every message up to Sync; so do the expected responses.
    this.skipping = true;
    while (this.state.slots.length > 0 && this.state.slots[0]!.kind !== 'sync') {
      const dropped = this.state.slots.shift()!;
      this.state.answered(dropped);
      // A failed Parse of the unnamed statement has dropped the old one.
      if (dropped.kind === 'parse' && dropped.statement.name === '') {
        this.state.committedStatements.delete('');
      }
    }
    return out;
  }

  /**
   * Before the first result of an Execute goes out: the portal upstream runs must be the one
   * that was decided, and a statement that masks must know its columns.
   */
  private check(slot: Extract<Slot, { kind: 'execute' }>): void {
    if (slot.checked) return;
    const committed = this.state.committedPortals.get(slot.portal.name);
    if (!committed || committed.statement !== slot.portal.statement) {
      throw new ResultError(
        'the portal run upstream is not the one decided; closing session',
        '08P01',
      );
    }
    // COPY has no RowDescription; its CopyOutResponse sets up its masking.
    if (slot.run.scans && !slot.run.isCopy) {
      const fields =
        committed.fields ??
        (committed.statement?.fields &&
          withFormats(committed.statement.fields, committed.resultFormats));
      if (fields) slot.run.describe(fields);
      // Without fields a masked result cannot go out; a scanned one fails at its first row.
      else if (slot.run.needsMasking) {
        throw new ResultError('result columns unknown; cannot mask', '42501');
      }
    }
    slot.checked = true;
  }
}

/**
 * An ErrorResponse or NoticeResponse with card-number-like values masked: PostgreSQL quotes
 * values in messages (`Key (pan)=(4111...) already exists`), which must not reach a client that
 * only sees that column masked. Errors are rare, so checking every one costs nothing.
 */
function scrubbed(msg: WireMessage): Buffer {
  const fields = parseErrorFields(msg.body);
  let changed = false;
  for (const [code, value] of Object.entries(fields)) {
    const masked = maskCardNumbers(value);
    if (masked !== value) {
      fields[code] = masked;
      changed = true;
    }
  }
  return changed ? fieldsMessage(msg.type, fields) : msg.raw;
}

/** A SELECT, or a COPY ... TO that writes nothing (COPY (INSERT ... RETURNING) TO writes). */
function readsOnly(run: StatementRun): boolean {
  const facts = run.statement?.facts;
  if (facts?.kind === 'select') return true;
  if (facts?.copy?.direction !== 'to') return false;
  return facts.tables.every((t) => t.operations.every((op) => op === 'read' || op === 'copy_to'));
}

function masks(statement: PreparedStatement): boolean {
  return statement.statements.some((s) => Object.keys(s.decision.mask).length > 0);
}

function unexpected(msg: WireMessage): ResultError {
  return new ResultError(
    `unexpected upstream message '${String.fromCharCode(msg.type)}' for the session state`,
    '08P01',
  );
}

/** Splits a search_path setting into schema names: unquoted names fold, `$user` resolves. */
export function parseSearchPath(setting: string, user: string): string[] {
  const out: string[] = [];
  // Schema names are separated by commas outside double quotes.
  for (const part of setting.match(/(?:"(?:[^"]|"")*"|[^,])+/g) ?? []) {
    let name = part.trim();
    if (name === '') continue;
    if (name.startsWith('"') && name.endsWith('"')) name = name.slice(1, -1).replace(/""/g, '"');
    else name = name.toLowerCase();
    out.push(name === '$user' ? user : name);
  }
  return out;
}
