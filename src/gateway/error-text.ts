/**
 * Error texts of statements that read masked data. PostgreSQL quotes values in its errors
 * (`invalid input syntax for type integer: "ebbbbbbbbbbbbbbb"`, `value "1111...4" is out of range`,
 * a function's `RAISE ... DETAIL`), in forms no content detector recognises: an encoded card
 * number is still a card number. For a statement whose decision masks any column, an upstream
 * ErrorResponse keeps only its severity, SQLSTATE and position; the message says the rest is
 * withheld, and the audit records the same text. The policy already refuses computing on a masked
 * column (where such errors come from); this is the defence behind it.
 */
import { fieldsMessage, parseErrorFields } from '../wire/backend.js';
import type { WireMessage } from '../wire/framer.js';
import type { StatementRun } from './results.js';
import type { Slot } from './state.js';

/** Fields kept as they are: severity (localised and not), SQLSTATE, cursor position. */
const KEPT = ['S', 'V', 'C', 'P'];

/** The message that replaces the upstream one. */
export function withheldMessage(code: string): string {
  return (
    `the statement failed (SQLSTATE ${code || 'unknown'}); ` +
    'details are withheld because it reads masked columns'
  );
}

/** The run an upstream error answers, when it answers a statement that ran. */
function runOf(slot: Slot | undefined): StatementRun | undefined {
  if (slot?.kind === 'query') return slot.runs[slot.index];
  if (slot?.kind === 'execute') return slot.run;
  return undefined;
}

/**
 * True when the statement may have read a column its decision masks: it names one (read,
 * filtered, computed on, or its whole row), or it does something the analyzer cannot follow
 * (an output of unknown lineage, a function outside pg_catalog). Other statements of the same
 * identity keep PostgreSQL's error text, so "relation does not exist" still says which.
 */
export function withholds(run: StatementRun | undefined): boolean {
  const statement = run?.statement;
  const masked = Object.keys(statement?.decision.mask ?? {});
  if (!statement || masked.length === 0) return false;
  const { columns, outputs, functions } = statement.facts;
  const named = new Set([...columns.read, ...columns.filtered, ...columns.computed]);
  for (const output of outputs) for (const table of output.wholeRow) named.add(`${table}.*`);
  const touches = (column: string) =>
    named.has(column) || named.has(column.slice(0, column.lastIndexOf('.')) + '.*');
  return (
    masked.some(touches) ||
    outputs.some((o) => o.unknown) ||
    functions.some((f) => !f.startsWith('pg_catalog.'))
  );
}

/** The fields of an ErrorResponse with everything but severity, SQLSTATE and position withheld. */
export function withheldFields(fields: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const code of KEPT) {
    if (fields[code] !== undefined) out[code] = fields[code];
    if (code === 'C') out.M = withheldMessage(fields.C ?? '');
  }
  if (out.M === undefined) out.M = withheldMessage('');
  return out;
}

/**
 * The ErrorResponse or NoticeResponse `msg` as it may be relayed and audited for the statement
 * `slot` answers: unchanged unless the statement may have read a column its decision masks.
 */
export function withholdError(slot: Slot | undefined, msg: WireMessage): WireMessage {
  if (!withholds(runOf(slot))) return msg;
  const fields = withheldFields(parseErrorFields(msg.body));
  // A NoticeResponse ('N') from such a statement (RAISE NOTICE in a function) goes the same way.
  if (msg.type === 0x4e)
    fields.M = 'a notice was withheld because the statement reads masked columns';
  const raw = fieldsMessage(msg.type, fields);
  return { type: msg.type, raw, body: raw.subarray(5) };
}
