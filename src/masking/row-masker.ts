/**
 * Masking DataRow messages in the data path. A plan is made once per result set from the
 * RowDescription, the statement's lineage and the decision's masks; each row is then rewritten
 * column by column. Rows needing no change are returned as the same buffer.
 */
import { PgwardenError } from '../errors.js';
import type { MaskSpec } from '../policy/types.js';
import { TEXT_LIKE, UNKNOWN_OID, valueText } from './binary.js';
import { maskCardNumbers, maskCardNumbersInJson } from './detect.js';
import { REDACTED, resolveMethod, type MaskMethod, type MaskOptions } from './methods.js';
import type { MaskerFactory, MaskStats, ResultField, RowMasker } from './types.js';

/** How the masker treats what it cannot mask precisely. */
export interface MaskerOptions extends MaskOptions {
  /** Scan every value for card numbers lineage missed (default true). */
  backstop?: boolean;
  /**
   * A masked column in binary format whose type cannot hold the masked text: `redact` sends
   * NULL (default), `refuse` refuses the result before any row goes out.
   */
  binary?: 'redact' | 'refuse';
  /**
   * An output column without lineage in a statement that reads tables with masked columns:
   * `redact` masks it whole (default), `refuse` refuses the result before any row goes out.
   */
  unknownLineage?: 'redact' | 'refuse';
}

/** What happens to one output column. */
interface ColumnPlan {
  method: MaskMethod;
  stats: { column: string; method: string; values: number };
}

const JSON_OID = 114;
const JSONB_OID = 3802;
const TEXT_ARRAYS = new Set([1009, 1015, 1014]);
const DATA_ROW = 0x44;

/**
 * Makes the factory the gateway calls once per result set. Throws ERR_MASK_METHOD for a mask the
 * registry cannot resolve and ERR_NOT_SUPPORTED where the options say to refuse; the gateway
 * then refuses the result before any row goes out.
 */
export function createMaskerFactory(options: MaskerOptions = {}): MaskerFactory {
  const backstop = options.backstop ?? true;
  const methods = new Map<string, MaskMethod>();
  const method = (spec: MaskSpec): MaskMethod => {
    const key = JSON.stringify(spec);
    let found = methods.get(key);
    if (!found) methods.set(key, (found = resolveMethod(spec, options)));
    return found;
  };
  const redact = resolveMethod('redact');

  return ({ fields, outputs, masks, columnName }) => {
    const maskedTables = new Set(Object.keys(masks).map((c) => c.slice(0, c.lastIndexOf('.'))));
    const plans = fields.map((field, i): ColumnPlan | null => {
      const direct = field.tableOid ? columnName(field.tableOid, field.columnAttr) : undefined;
      const spec = direct ? masks[direct] : undefined;
      if (direct && spec !== undefined) return plan(direct, method(spec));
      const lineage = outputs[i];
      const label = direct ?? lineage?.name ?? field.name;
      if (!lineage || lineage.unknown) {
        // A column RowDescription ties to a table is that column; only a computed one can carry
        // a masked column's values unseen.
        if (direct || maskedTables.size === 0) return null;
        if (options.unknownLineage === 'refuse') {
          throw new PgwardenError('ERR_NOT_SUPPORTED', `lineage of column "${label}" is unknown`);
        }
        return plan(label, redact);
      }
      // A view's column is tied to the view, not to the table under it: lineage, which resolves
      // views from the catalog, says whether it carries a masked column.
      const masked = lineage.sources.filter((s) => masks[s] !== undefined);
      const wholeRow = lineage.wholeRow.some((t) => maskedTables.has(t));
      if (masked.length === 0 && !wholeRow) return null;
      if (lineage.exact && masked.length === 1 && !wholeRow) {
        return plan(masked[0]!, method(masks[masked[0]!]!));
      }
      return plan(label, redact);
    });
    if (options.binary === 'refuse') refuseBinary(fields, plans);
    return new DataRowMasker(fields, plans, backstop);
  };
}

function plan(label: string, method: MaskMethod): ColumnPlan {
  return { method, stats: { column: label, method: method.name, values: 0 } };
}

/** Refuses a result with a masked binary column that cannot hold masked text. */
function refuseBinary(fields: ResultField[], plans: Array<ColumnPlan | null>): void {
  fields.forEach((field, i) => {
    if (plans[i] && field.format === 1 && !TEXT_LIKE.has(field.typeOid)) {
      throw new PgwardenError(
        'ERR_NOT_SUPPORTED',
        `masked column "${field.name}" is requested in binary format; request text format`,
      );
    }
  });
}

class DataRowMasker implements RowMasker {
  readonly active: boolean;
  readonly #masks: boolean;
  #backstopHits = 0;

  constructor(
    private readonly fields: ResultField[],
    private readonly plans: Array<ColumnPlan | null>,
    private readonly backstop: boolean,
  ) {
    this.#masks = plans.some((p) => p !== null);
    this.active = backstop || this.#masks;
  }

  stats(): MaskStats {
    const columns = this.plans.filter((p): p is ColumnPlan => p !== null).map((p) => p.stats);
    return { columns, backstop: this.#backstopHits };
  }

  transformRow(message: Buffer): Buffer {
    // COPY output reaches the masker as DataRows too, built by CopyOutStream (copy-masker.ts).
    if (message[0] !== DATA_ROW) throw new PgwardenError('ERR_PROTOCOL', 'not a DataRow message');
    // DataRow: 'D', int32 length, int16 column count, then per column int32 length (-1 for
    // NULL) and the value's bytes. Replacements are collected first, then the new message is
    // written into one buffer: most rows change in a column or two.
    const count = message.readInt16BE(5);
    // A row that does not match its description cannot be masked by column: never pass it on.
    if (count !== this.fields.length) {
      throw new PgwardenError(
        'ERR_PROTOCOL',
        `DataRow has ${count} columns, its RowDescription ${this.fields.length}`,
      );
    }
    let offset = 7;
    let changes: Change[] | null = null;
    let size = message.length;
    for (let i = 0; i < count; i++) {
      const length = message.readInt32BE(offset);
      const start = offset + 4;
      const end = length < 0 ? start : start + length;
      if (length >= 0) {
        const plan = this.plans[i];
        const field = this.fields[i];
        if (plan?.method.maskInPlace && field && TEXT_LIKE.has(field.typeOid)) {
          plan.stats.values++;
          (changes ??= []).push({ at: offset, end, value: IN_PLACE, method: plan.method });
        } else {
          const value = this.#maskValue(i, message, start, end);
          if (value !== undefined) {
            (changes ??= []).push({ at: offset, end, value });
            size += (value === null ? 0 : value.length) - length;
          }
        }
      }
      offset = end;
    }
    if (!changes) return message;
    return rewrite(message, changes, size);
  }

  /** The new value of column `i` (null for SQL NULL), or undefined to keep it. */
  #maskValue(i: number, row: Buffer, start: number, end: number): Buffer | null | undefined {
    const field = this.fields[i];
    const plan = this.plans[i];
    if (!field) return undefined;
    if (plan) {
      plan.stats.values++;
      return applyMethod(plan.method, field, row.subarray(start, end));
    }
    if (!this.backstop) return undefined;
    // Text forms are scanned for a digit run first: nearly every value has none.
    if (field.format === 0 && !mayHoldFloat(field.typeOid, row, start, end)) {
      if (!mayHoldCardNumber(row, start, end)) return undefined;
    }
    const text = valueText(field.typeOid, field.format, row, start, end);
    if (text === null) return undefined;
    const json = field.typeOid === JSON_OID || field.typeOid === JSONB_OID;
    const masked = json ? maskCardNumbersInJson(text) : maskCardNumbers(text);
    if (masked === text) return undefined;
    this.#backstopHits++;
    // A value of another type cannot hold the masked text and stay valid: it becomes NULL.
    if (TEXT_LIKE.has(field.typeOid)) return Buffer.from(masked, 'utf8');
    if (field.typeOid === JSONB_OID && field.format === 0) return Buffer.from(masked, 'utf8');
    if (field.typeOid === JSONB_OID) return Buffer.concat([Buffer.of(1), Buffer.from(masked)]);
    return null;
  }
}

/** Applies a method to one value, keeping the result valid for the column's type and format. */
function applyMethod(method: MaskMethod, field: ResultField, value: Buffer): Buffer | null {
  const { typeOid, format } = field;
  if (TEXT_LIKE.has(typeOid) && typeOid !== JSON_OID) return method.applyBytes(value);
  if (method.name === 'null') return null;
  if (typeOid === JSON_OID || (typeOid === JSONB_OID && format === 0)) {
    return Buffer.from(JSON.stringify(REDACTED), 'utf8');
  }
  if (typeOid === JSONB_OID) return Buffer.concat([Buffer.of(1), Buffer.from(`"${REDACTED}"`)]);
  if (TEXT_ARRAYS.has(typeOid) && format === 0) return Buffer.from(`{"${REDACTED}"}`, 'utf8');
  return null;
}

/**
 * True for a float in text form with an exponent, which may be a card number in disguise. COPY
 * values are typed `unknown` and may be floats as well.
 */
function mayHoldFloat(typeOid: number, row: Buffer, start: number, end: number): boolean {
  if (typeOid !== 701 && typeOid !== 700 && typeOid !== UNKNOWN_OID) return false;
  // A float's text starts with a digit or a minus sign (`unknown` values are mostly words).
  const first = row[start];
  if (first === undefined || !((first >= 48 && first <= 57) || first === 45)) return false;
  for (let i = start; i < end; i++) if (row[i] === 0x65) return true;
  return false;
}

/** Cheap byte scan: is there a run of 13 or more digits, allowing single spaces or dashes? */
export function mayHoldCardNumber(row: Buffer, start: number, end: number): boolean {
  let digits = 0;
  let separator = false;
  for (let i = start; i < end; i++) {
    const c = row[i]!;
    if (c >= 48 && c <= 57) {
      if (++digits >= 13) return true;
      separator = false;
    } else if ((c === 32 || c === 45) && digits > 0 && !separator) {
      separator = true;
    } else {
      digits = 0;
      separator = false;
    }
  }
  return false;
}

/** Marks a change whose method rewrites the copied value where it lies. */
const IN_PLACE = Buffer.alloc(0);

/** One column's new value: its length word starts at `at`, its old value ends at `end`. */
interface Change {
  at: number;
  end: number;
  value: Buffer | null;
  method?: MaskMethod;
}

/** Writes `message` with its changed columns into a new message of `size` bytes. */
function rewrite(message: Buffer, changes: Change[], size: number): Buffer {
  const out = Buffer.allocUnsafe(size);
  let from = 0;
  let to = 0;
  for (const { at, end, value, method } of changes) {
    if (value === IN_PLACE) {
      // Same length: copy the column as it is and mask its bytes in the new message.
      const start = to + (at - from) + 4;
      to += message.copy(out, to, from, end);
      method!.maskInPlace!(out, start, to);
      from = end;
      continue;
    }
    to += message.copy(out, to, from, at);
    out.writeInt32BE(value === null ? -1 : value.length, to);
    to += 4;
    if (value) to += value.copy(out, to);
    from = end;
  }
  message.copy(out, to, from);
  out.writeInt32BE(size - 1, 1);
  return out;
}
