/**
 * Masking COPY ... TO STDOUT output. CopyData messages carry rows in the COPY format (text, CSV
 * or binary) rather than DataRow messages, and a row may be split across messages or several
 * rows share one. The stream keeps an unfinished row until its end arrives, reads each finished
 * row into its fields, runs them through the result set's RowMasker as a DataRow (so COPY gets
 * exactly the methods, lineage plans and backstop of ordinary results), and writes a changed
 * row back in the same format. Nothing of an unfinished row is sent.
 */
import { PgwardenError } from '../errors.js';
import type { CopyOptions, OutputLineage } from '../sql/types.js';
import { UNKNOWN_OID } from './binary.js';
import {
  BinarySplitter,
  FIELD_ENCODED,
  FIELD_NULL,
  FIELD_QUOTED,
  LineSplitter,
  decodeField,
  decodeRow,
  decodeTuple,
  encodeRow,
  encodeTuple,
  fieldLength,
  lineFormat,
  scanFields,
  writeField,
  type CopyField,
  type LineFormat,
} from './copy-format.js';
import { maskCardNumbers } from './detect.js';
import { mayHoldCardNumber } from './row-masker.js';
import type { MaskStats, ResultField, RowMasker } from './types.js';

const COPY_DATA = 0x64;
const DATA_ROW = 0x44;
const BACKSLASH = 0x5c;
const NEWLINE = 0x0a;

/** PostgreSQL's defaults: what a COPY with no options writes. */
export const DEFAULT_COPY_OPTIONS: CopyOptions = {
  format: 'text',
  delimiter: '\t',
  null: '\\N',
  header: false,
  quote: '"',
  escape: '"',
  encoding: null,
};

/**
 * The result columns to build a COPY's RowMasker from. COPY has no RowDescription: a column is
 * known only by the statement's lineage, taken by position when the analyzer found exactly as
 * many outputs as CopyOutResponse announces columns, and otherwise unknown (so masked whole when
 * the decision masks anything). Values are typed `unknown`: text the backstop reads like any
 * text, floats in exponent form included.
 */
export function copyResultColumns(
  columns: number,
  outputs: OutputLineage[],
  binary: boolean,
): { fields: ResultField[]; outputs: OutputLineage[] } {
  const aligned = outputs.length === columns;
  const fields = Array.from({ length: columns }, (_, i) => ({
    name: (aligned && outputs[i]?.name) || `column${i + 1}`,
    tableOid: 0,
    columnAttr: 0,
    typeOid: UNKNOWN_OID,
    typeSize: -2,
    typeMod: -1,
    format: binary ? 1 : 0,
  }));
  return { fields, outputs: aligned ? outputs : [] };
}

/** What one CopyData message turned into. */
export interface CopyChunk {
  /** The CopyData message to send, or null when no row was finished by this message. */
  message: Buffer | null;
  /** Data rows finished by this message (a CSV or text header and binary framing excluded). */
  rows: number;
}

/**
 * Client encodings in which the second byte of a character can be an ASCII byte (a backslash, a
 * delimiter): COPY text in them cannot be cut into fields byte by byte. Names as PostgreSQL
 * accepts them, lower case without punctuation.
 */
const ASCII_EMBEDDING = new Set([
  ...['sjis', 'shiftjis', 'mskanji', 'win932', 'windows932', 'shiftjis2004', 'big5', 'win950'],
  ...['windows950', 'gbk', 'cp936', 'win936', 'windows936', 'uhc', 'cp949', 'win949'],
  ...['windows949', 'gb18030', 'johab'],
]);

/** True when COPY text in `encoding` can be read byte by byte (UTF-8, every server encoding). */
export function asciiSafeEncoding(encoding: string): boolean {
  return !ASCII_EMBEDDING.has(encoding.toLowerCase().replace(/[^a-z0-9]/g, ''));
}

/** One COPY ... TO STDOUT result on its way to the client. */
export class CopyOutStream {
  private readonly line: LineFormat | null;
  private readonly lines: LineSplitter | null;
  private readonly tuples: BinarySplitter | null;
  /** Bytes of a row whose end has not arrived yet. */
  private carry: Buffer | null = null;
  private headerPending: boolean;
  /** The masker changes columns (not only the backstop): every row goes through it. */
  private readonly masksColumns: boolean;
  /**
   * The text is in an encoding that embeds ASCII bytes in characters: rows are not cut into
   * fields; the backstop reads each row's bytes whole.
   */
  private readonly wholeRows: boolean;
  private wholeRowHits = 0;
  /** Field spans of the current row (see scanFields), and values read or changed per field. */
  private readonly spans: Int32Array;
  private readonly decoded: Array<Buffer | undefined>;
  /** Where each field's new value lies in the masked DataRow (see rewrite). */
  private readonly now: Int32Array;

  /**
   * `masker` is null when nothing is scanned: rows are then only counted. `encoding` is the
   * encoding of the output (the ENCODING option, else the session's client_encoding). Throws
   * ERR_NOT_SUPPORTED when the masker has columns to mask in binary COPY (binary values are of
   * types COPY does not describe) or in an encoding whose characters can hold ASCII bytes, and
   * for options the row format cannot read.
   */
  constructor(
    options: CopyOptions,
    private readonly columns: number,
    private readonly masker: RowMasker | null,
    encoding = 'UTF8',
  ) {
    this.masksColumns = !!masker && masker.stats().columns.length > 0;
    const binary = options.format === 'binary';
    if (binary && this.masksColumns) {
      throw new PgwardenError(
        'ERR_NOT_SUPPORTED',
        'COPY in binary format cannot be masked; use FORMAT text or csv',
      );
    }
    this.wholeRows = !binary && !asciiSafeEncoding(encoding);
    if (this.wholeRows && this.masksColumns) {
      throw new PgwardenError(
        'ERR_NOT_SUPPORTED',
        `COPY output in encoding ${encoding} cannot be masked; use client_encoding UTF8`,
      );
    }
    this.line = binary ? null : lineFormat(options);
    this.lines = this.line ? new LineSplitter(this.line) : null;
    this.tuples = binary ? new BinarySplitter() : null;
    this.headerPending = !binary && options.header;
    this.spans = new Int32Array(3 * columns);
    this.decoded = new Array<Buffer | undefined>(columns).fill(undefined);
    this.now = new Int32Array(2 * columns);
  }

  /** Passes one CopyData message (type byte, length, data). */
  data(message: Buffer): CopyChunk {
    if (message[0] !== COPY_DATA) throw new PgwardenError('ERR_PROTOCOL', 'not a CopyData message');
    // Offsets are into `bytes`: the message itself (data from 5), or an unfinished row carried
    // from earlier messages followed by this message's data.
    const carried = this.carry;
    const bytes = carried ? Buffer.concat([carried, message.subarray(5)]) : message;
    const from = carried ? 0 : 5;
    const active = !!this.masker?.active;
    let out: Buffer[] | null = null;
    /** Where the bytes not yet in `out` start (all of them go out unchanged). */
    let kept = from;
    let rows = 0;
    let start = from;
    let scan = carried ? carried.length : from;
    let single: Buffer | null = null;
    for (;;) {
      const end = this.nextEnd(bytes, start, scan);
      if (end < 0) break;
      const kind = this.kind;
      if (kind === 'row') rows++;
      const sent = !active
        ? null
        : kind === 'row'
          ? this.row(bytes, start, end)
          : kind === 'header'
            ? this.header(bytes, start, end)
            : null;
      if (sent) {
        // `sent` has 5 bytes of room in front, for the CopyData header when it goes alone.
        if (start === from && end === bytes.length && !carried) single = sent;
        out ??= [];
        if (kept < start) out.push(bytes.subarray(kept, start));
        out.push(sent.subarray(5));
        kept = end;
      }
      start = scan = end;
    }
    this.carry = start < bytes.length ? Buffer.from(bytes.subarray(start)) : null;
    if (!active || (!out && !carried && !this.carry)) return { message, rows };
    if (single) {
      single[0] = COPY_DATA;
      single.writeInt32BE(single.length - 1, 1);
      return { message: single, rows };
    }
    out ??= [];
    if (kept < start) out.push(bytes.subarray(kept, start));
    return { message: copyData(out), rows };
  }

  /** CopyDone: a row still open means the data ended inside it, which PostgreSQL never does. */
  end(): void {
    if (this.carry || (this.lines && !this.lines.atRowStart)) {
      throw new PgwardenError('ERR_PROTOCOL', 'COPY data ended inside a row');
    }
  }

  /** What the masker changed, for the audit. */
  stats(): MaskStats | null {
    if (!this.masker) return null;
    const stats = this.masker.stats();
    return { ...stats, backstop: stats.backstop + this.wholeRowHits };
  }

  /** Kind of the piece nextEnd found last. */
  private kind: 'header' | 'row' | 'frame' = 'row';

  /** Where the piece starting at `start` ends, or -1 when it is not complete in `bytes`. */
  private nextEnd(bytes: Buffer, start: number, scan: number): number {
    if (this.tuples) {
      const next = this.tuples.next(bytes, start);
      if (!next) return -1;
      this.kind = next.kind === 'tuple' ? 'row' : 'frame';
      return next.end;
    }
    const end = this.lines!.next(bytes, scan);
    if (end < 0) return -1;
    this.kind = this.headerPending ? 'header' : 'row';
    this.headerPending = false;
    return end;
  }

  /** Column names can be card numbers too (`AS "4111..."`): the header gets the detector. */
  private header(bytes: Buffer, start: number, end: number): Buffer | null {
    const format = this.line!;
    const fields = decodeRow(format, bytes.subarray(start, end - 1));
    let changed = false;
    for (const field of fields) {
      if (!field.value) continue;
      const text = field.value.toString('utf8');
      const masked = maskCardNumbers(text);
      if (masked !== text) {
        field.value = Buffer.from(masked, 'utf8');
        changed = true;
      }
    }
    return changed ? framed(encodeRow(format, fields, fields.length === 1)) : null;
  }

  /**
   * One finished data row, bytes [start, end) (a text or CSV row with its newline, or a binary
   * tuple): null when it goes out unchanged, else the new row after 5 bytes of room.
   */
  private row(bytes: Buffer, start: number, end: number): Buffer | null {
    if (this.wholeRows) return this.wholeRow(bytes, start, end);
    const format = this.line;
    const bodyEnd = format ? end - 1 : end;
    // Only the backstop runs: a row without a long digit run (and, in text format, without an
    // octal or hex escape, which could spell digits) has nothing it could find.
    if (!this.masksColumns && !mayHoldCardNumber(bytes, start, bodyEnd)) {
      if (!format || format.csv || !hasNumericEscape(bytes, start, bodyEnd)) return null;
    }
    if (!format) return this.tuple(bytes.subarray(start, end));
    // A COPY of no columns writes empty lines: nothing to mask.
    if (this.columns === 0) return null;
    const spans = this.spans;
    const count = scanFields(format, bytes, start, bodyEnd, spans);
    if (count !== this.columns) throw columnCount(count, this.columns);

    // The fields as a DataRow: 'D', int32 length, int16 count, then int32 length (-1 for NULL)
    // and the value per field. Values without escapes or quotes are their raw bytes.
    const decoded = this.decoded;
    let size = 7;
    for (let i = 0; i < count; i++) {
      const flags = spans[i * 3 + 2]!;
      let length = 0;
      if (flags & FIELD_ENCODED && !(flags & FIELD_NULL)) {
        const value = decodeField(format, bytes, spans[i * 3]!, spans[i * 3 + 1]!);
        decoded[i] = value;
        length = value.length;
      } else if (!(flags & FIELD_NULL)) {
        length = spans[i * 3 + 1]! - spans[i * 3]!;
      }
      size += 4 + length;
    }
    const row = Buffer.allocUnsafe(size);
    row[0] = DATA_ROW;
    row.writeInt32BE(size - 1, 1);
    row.writeInt16BE(count, 5);
    let offset = 7;
    for (let i = 0; i < count; i++) {
      const flags = spans[i * 3 + 2]!;
      if (flags & FIELD_NULL) {
        row.writeInt32BE(-1, offset);
        offset += 4;
        continue;
      }
      const value = flags & FIELD_ENCODED ? decoded[i]! : null;
      const length = value ? value.length : spans[i * 3 + 1]! - spans[i * 3]!;
      row.writeInt32BE(length, offset);
      offset += 4;
      offset = value
        ? copyBytes(value, 0, value.length, row, offset)
        : copyBytes(bytes, spans[i * 3]!, spans[i * 3 + 1]!, row, offset);
    }

    const masked = this.masker!.transformRow(row);
    if (masked === row) return null;
    return this.rewrite(format, bytes, row, masked, count);
  }

  /**
   * Writes a row the masker changed: fields it left as they were keep their bytes as PostgreSQL
   * wrote them, changed ones are written in the row format (quoted again if they came quoted).
   */
  private rewrite(
    format: LineFormat,
    bytes: Buffer,
    row: Buffer,
    masked: Buffer,
    count: number,
  ): Buffer {
    const spans = this.spans;
    // Per field: where its new value starts in `masked` (-1: unchanged, -2: NULL now).
    const now = this.now;
    const single = count === 1;
    let size = count;
    let before = 7;
    let after = 7;
    for (let i = 0; i < count; i++) {
      const wasLength = row.readInt32BE(before);
      const length = masked.readInt32BE(after);
      const quoted = (spans[i * 3 + 2]! & FIELD_QUOTED) !== 0;
      if (
        wasLength === length &&
        sameBytes(row, before + 4, masked, after + 4, Math.max(length, 0))
      ) {
        now[i * 2] = -1;
        size += spans[i * 3 + 1]! - spans[i * 3]!;
      } else if (length < 0) {
        now[i * 2] = -2;
        size += fieldLength(format, null, 0, 0, quoted, single);
      } else {
        now[i * 2] = after + 4;
        now[i * 2 + 1] = after + 4 + length;
        size += fieldLength(format, masked, after + 4, after + 4 + length, quoted, single);
      }
      before += 4 + Math.max(wasLength, 0);
      after += 4 + Math.max(length, 0);
    }
    const out = Buffer.allocUnsafe(5 + size);
    let offset = 5;
    for (let i = 0; i < count; i++) {
      if (i > 0) out[offset++] = format.delimiter;
      const at = now[i * 2]!;
      const quoted = (spans[i * 3 + 2]! & FIELD_QUOTED) !== 0;
      if (at === -1) {
        offset = copyBytes(bytes, spans[i * 3]!, spans[i * 3 + 1]!, out, offset);
      } else if (at === -2) {
        offset = writeField(format, null, 0, 0, quoted, single, out, offset);
      } else {
        offset = writeField(format, masked, at, now[i * 2 + 1]!, quoted, single, out, offset);
      }
    }
    out[offset] = NEWLINE;
    return out;
  }

  /** A binary tuple through the masker (backstop only: masked columns refuse binary). */
  private tuple(raw: Buffer): Buffer | null {
    const fields = decodeTuple(raw);
    if (fields.length !== this.columns) throw columnCount(fields.length, this.columns);
    const row = dataRow(fields);
    const masked = this.masker!.transformRow(row);
    if (masked === row) return null;
    readDataRow(masked, fields);
    return framed(encodeTuple(fields));
  }

  /** A row in an ASCII-embedding encoding: the backstop reads its bytes whole. */
  private wholeRow(bytes: Buffer, start: number, end: number): Buffer | null {
    const masked = maskRowBytes(bytes.subarray(start, end));
    if (!masked) return null;
    this.wholeRowHits++;
    return framed(masked);
  }
}

function columnCount(found: number, announced: number): PgwardenError {
  return new PgwardenError(
    'ERR_PROTOCOL',
    `COPY row has ${found} columns, CopyOutResponse ${announced}`,
  );
}

/**
 * Copies bytes [start, end) of `from` to `to` at `at`; returns the offset after them. Values are
 * mostly a few bytes, for which a loop is several times faster than Buffer#copy.
 */
function copyBytes(from: Buffer, start: number, end: number, to: Buffer, at: number): number {
  if (end - start > 64) return at + from.copy(to, at, start, end);
  for (let i = start; i < end; i++) to[at++] = from[i]!;
  return at;
}

function sameBytes(a: Buffer, aStart: number, b: Buffer, bStart: number, length: number): boolean {
  if (length > 64) return a.compare(b, bStart, bStart + length, aStart, aStart + length) === 0;
  for (let i = 0; i < length; i++) if (a[aStart + i] !== b[bStart + i]) return false;
  return true;
}

/** True when text-format bytes hold `\ooo` or `\xhh` (PostgreSQL never writes them). */
function hasNumericEscape(bytes: Buffer, start: number, end: number): boolean {
  for (let i = bytes.indexOf(BACKSLASH, start); i >= 0 && i + 1 < end;) {
    const next = bytes[i + 1]!;
    if ((next >= 0x30 && next <= 0x37) || next === 0x78) return true;
    // `\\` is an escaped backslash: what follows it is not escaped.
    i = bytes.indexOf(BACKSLASH, i + 2);
  }
  return false;
}

/** `bytes` after 5 bytes of room (see CopyOutStream.row). */
function framed(bytes: Buffer): Buffer {
  const out = Buffer.allocUnsafe(5 + bytes.length);
  bytes.copy(out, 5);
  return out;
}

/**
 * The backstop over a row's bytes, read one byte per character so that every byte is kept. An
 * ASCII digit byte is a digit in these encodings, but for GB18030, whose four-byte characters
 * hold two digit bytes, never side by side.
 */
function maskRowBytes(raw: Buffer): Buffer | null {
  if (!mayHoldCardNumber(raw, 0, raw.length)) return null;
  const text = raw.toString('latin1');
  const masked = maskCardNumbers(text);
  return masked === text ? null : Buffer.from(masked, 'latin1');
}

/** The fields as a DataRow message ('D', int32 length, int16 count, length-prefixed values). */
function dataRow(fields: CopyField[]): Buffer {
  let size = 7;
  for (const f of fields) size += 4 + (f.value?.length ?? 0);
  const out = Buffer.allocUnsafe(size);
  out[0] = DATA_ROW;
  out.writeInt32BE(size - 1, 1);
  out.writeInt16BE(fields.length, 5);
  let offset = 7;
  for (const f of fields) {
    out.writeInt32BE(f.value === null ? -1 : f.value.length, offset);
    offset += 4;
    if (f.value) offset += f.value.copy(out, offset);
  }
  return out;
}

/** Reads a DataRow's values back into `fields` (same count), keeping each field's quoting. */
function readDataRow(row: Buffer, fields: CopyField[]): void {
  let offset = 7;
  for (const field of fields) {
    const length = row.readInt32BE(offset);
    offset += 4;
    field.value = length < 0 ? null : row.subarray(offset, offset + length);
    offset += Math.max(length, 0);
  }
}

/** One CopyData message holding `parts`, or null when they are empty. */
function copyData(parts: Buffer[]): Buffer | null {
  let size = 0;
  for (const p of parts) size += p.length;
  if (size === 0) return null;
  const out = Buffer.allocUnsafe(5 + size);
  out[0] = COPY_DATA;
  out.writeInt32BE(4 + size, 1);
  let offset = 5;
  for (const p of parts) offset += p.copy(out, offset);
  return out;
}
