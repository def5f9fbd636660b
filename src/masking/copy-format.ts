/**
 * The row formats of COPY ... TO STDOUT (PostgreSQL docs, "COPY: File Formats"): finding where
 * rows end in a stream of CopyData bytes, splitting a row into its fields, and writing fields
 * back. Text and CSV work on bytes: delimiter, quote, escape and newline are single ASCII bytes,
 * which in UTF-8 (and every server encoding) never occur inside a multi-byte character.
 */
import { PgwardenError } from '../errors.js';
import type { CopyOptions } from '../sql/types.js';

/** One field of a row: its value (null for SQL NULL) and, in CSV, whether it was quoted. */
export interface CopyField {
  value: Buffer | null;
  quoted: boolean;
}

/** A text or CSV format with its options resolved to bytes. */
export interface LineFormat {
  csv: boolean;
  delimiter: number;
  quote: number;
  escape: number;
  nullMarker: Buffer;
}

const NEWLINE = 0x0a;
const CR = 0x0d;
const BACKSLASH = 0x5c;

/** Resolves options to the bytes the codec compares with. Binary has no line format. */
export function lineFormat(options: CopyOptions): LineFormat {
  const byte = (text: string, what: string): number => {
    const bytes = Buffer.from(text, 'utf8');
    if (bytes.length !== 1) {
      throw new PgwardenError(
        'ERR_NOT_SUPPORTED',
        `COPY ${what} must be a single one-byte character`,
      );
    }
    return bytes[0]!;
  };
  return {
    csv: options.format === 'csv',
    delimiter: byte(options.delimiter, 'delimiter'),
    quote: byte(options.quote, 'quote'),
    escape: byte(options.escape, 'escape'),
    nullMarker: Buffer.from(options.null, 'utf8'),
  };
}

/**
 * Finds row ends in a byte stream that may split rows anywhere. Text rows end at every newline
 * byte (a newline inside a value is written `\n`); CSV rows end at a newline outside quotes, so
 * the quoting state is kept between chunks.
 */
export class LineSplitter {
  private inQuote = false;
  /** In CSV, the previous byte inside quotes was an escape (distinct from the quote). */
  private escaped = false;

  constructor(private readonly format: LineFormat) {}

  /**
   * Returns the offset just past the next row end at or after `from` in `bytes`, or -1 when the
   * row goes on past `bytes` (the state is then kept for the next chunk, read from `bytes.length`).
   */
  next(bytes: Buffer, from: number): number {
    if (!this.format.csv) {
      const at = bytes.indexOf(NEWLINE, from);
      return at < 0 ? -1 : at + 1;
    }
    const { quote, escape } = this.format;
    for (let i = from; i < bytes.length; i++) {
      const c = bytes[i]!;
      if (!this.inQuote) {
        if (c === NEWLINE) return i + 1;
        if (c === quote) this.inQuote = true;
      } else if (this.escaped) {
        this.escaped = false;
      } else if (c === escape && escape !== quote) {
        // An escape escapes only a quote or itself; before anything else it stands for itself,
        // and skipping that next byte does not matter: it is neither.
        this.escaped = true;
      } else if (c === quote) {
        // With escape == quote, `""` leaves and re-enters the quotes: the same result.
        this.inQuote = false;
      }
    }
    return -1;
  }

  /** True when no row is open (every byte seen so far belonged to a finished row). */
  get atRowStart(): boolean {
    return !this.inQuote && !this.escaped;
  }
}

/** Flags of a field span (see scanFields). */
export const FIELD_NULL = 1;
/** The raw bytes are not the value: text escapes or CSV quotes must be read. */
export const FIELD_ENCODED = 2;
/** CSV: the field was quoted (PostgreSQL quotes FORCE_QUOTE columns and values that need it). */
export const FIELD_QUOTED = 4;

/**
 * Finds the fields of one row, bytes [start, end) without the final newline, and stores three
 * numbers per field in `spans` (raw start, raw end, flags) while there is room. Returns the
 * number of fields, also past the room, so a row with too many fields is noticed. Nothing is
 * copied: the hot path reads values where they lie.
 *
 * Text: fields are separated by the delimiter; a backslash escapes the next byte, so an escaped
 * delimiter does not separate. A field equal to the NULL marker before escapes are read is NULL.
 * CSV (CopyReadAttributesCSV): outside quotes bytes are taken as they are up to the delimiter; a
 * quote opens a quoted run, in which the escape before a quote or another escape stands for it
 * and a quote closes the run. Only an unquoted field equal to the NULL marker is NULL.
 */
export function scanFields(
  format: LineFormat,
  bytes: Buffer,
  start: number,
  end: number,
  spans: Int32Array,
): number {
  const { delimiter, quote, escape, nullMarker, csv } = format;
  const room = Math.floor(spans.length / 3);
  let count = 0;
  let fieldStart = start;
  let flags = 0;
  let inQuote = false;
  for (let i = start; ; i++) {
    if (i < end) {
      const c = bytes[i]!;
      if (!csv) {
        if (c === BACKSLASH) {
          flags |= FIELD_ENCODED;
          i++;
          continue;
        }
        if (c !== delimiter) continue;
      } else if (inQuote) {
        if (c === escape && i + 1 < end && (bytes[i + 1] === escape || bytes[i + 1] === quote)) {
          i++;
        } else if (c === quote) {
          inQuote = false;
        }
        continue;
      } else if (c === quote) {
        inQuote = true;
        flags |= FIELD_ENCODED | FIELD_QUOTED;
        continue;
      } else if (c !== delimiter) {
        continue;
      }
    } else if (inQuote) {
      throw new PgwardenError('ERR_PROTOCOL', 'COPY CSV row ends inside quotes');
    }
    const fieldEnd = Math.min(i, end);
    const isNull =
      !(flags & FIELD_QUOTED) &&
      fieldEnd - fieldStart === nullMarker.length &&
      bytes.compare(nullMarker, 0, nullMarker.length, fieldStart, fieldEnd) === 0;
    if (count < room) {
      spans[count * 3] = fieldStart;
      spans[count * 3 + 1] = fieldEnd;
      spans[count * 3 + 2] = isNull ? FIELD_NULL : flags;
    }
    count++;
    if (i >= end) return count;
    fieldStart = i + 1;
    flags = 0;
  }
}

/** The value of a field with FIELD_ENCODED: escapes (text) or quotes (CSV) read. */
export function decodeField(format: LineFormat, bytes: Buffer, start: number, end: number): Buffer {
  return format.csv ? unquoteCsv(format, bytes, start, end) : unescapeText(bytes, start, end);
}

/** Splits one row (its bytes without the final newline) into fields. */
export function decodeRow(format: LineFormat, row: Buffer): CopyField[] {
  let spans = new Int32Array(48);
  let count = scanFields(format, row, 0, row.length, spans);
  if (count * 3 > spans.length) {
    spans = new Int32Array(count * 3);
    count = scanFields(format, row, 0, row.length, spans);
  }
  const fields: CopyField[] = [];
  for (let i = 0; i < count; i++) {
    const start = spans[i * 3]!;
    const end = spans[i * 3 + 1]!;
    const flags = spans[i * 3 + 2]!;
    let value: Buffer | null = null;
    if (!(flags & FIELD_NULL)) {
      value =
        flags & FIELD_ENCODED ? decodeField(format, row, start, end) : row.subarray(start, end);
    }
    fields.push({ value, quoted: (flags & FIELD_QUOTED) !== 0 });
  }
  return fields;
}

/** Writes fields as one row, with its final newline. */
export function encodeRow(format: LineFormat, fields: CopyField[], singleColumn = false): Buffer {
  let size = fields.length;
  for (const f of fields) {
    size += fieldLength(format, f.value, 0, f.value?.length ?? 0, f.quoted, singleColumn);
  }
  const out = Buffer.allocUnsafe(size);
  let offset = 0;
  fields.forEach((f, i) => {
    if (i > 0) out[offset++] = format.delimiter;
    const length = f.value?.length ?? 0;
    offset = writeField(format, f.value, 0, length, f.quoted, singleColumn, out, offset);
  });
  out[offset] = NEWLINE;
  return out;
}

/**
 * How many bytes the value in bytes [start, end) of `src` (null: SQL NULL) takes written as
 * PostgreSQL writes it: the NULL marker for NULL, else text escapes (CopyAttributeOutText) or CSV
 * quoting (CopyAttributeOutCSV). `quoted` asks for CSV quotes whatever the value (a field that
 * came quoted goes out quoted).
 */
export function fieldLength(
  format: LineFormat,
  src: Buffer | null,
  start: number,
  end: number,
  quoted: boolean,
  singleColumn: boolean,
): number {
  if (src === null) return format.nullMarker.length;
  let extra = 0;
  if (!format.csv) {
    for (let i = start; i < end; i++) if (textEscaped(format, src[i]!)) extra++;
    return end - start + extra;
  }
  if (!csvQuoted(format, src, start, end, quoted, singleColumn)) return end - start;
  for (let i = start; i < end; i++) {
    if (src[i] === format.quote || src[i] === format.escape) extra++;
  }
  return end - start + extra + 2;
}

/** Writes a value as fieldLength measured it into `out` at `offset`; returns the new offset. */
export function writeField(
  format: LineFormat,
  src: Buffer | null,
  start: number,
  end: number,
  quoted: boolean,
  singleColumn: boolean,
  out: Buffer,
  offset: number,
): number {
  if (src === null) return offset + format.nullMarker.copy(out, offset);
  if (!format.csv) {
    for (let i = start; i < end; i++) {
      const c = src[i]!;
      if (textEscaped(format, c)) {
        out[offset++] = BACKSLASH;
        out[offset++] = LETTER_OF[c] || c;
      } else {
        out[offset++] = c;
      }
    }
    return offset;
  }
  const { quote, escape } = format;
  const use = csvQuoted(format, src, start, end, quoted, singleColumn);
  if (use) out[offset++] = quote;
  for (let i = start; i < end; i++) {
    const c = src[i]!;
    if (use && (c === quote || c === escape)) out[offset++] = escape;
    out[offset++] = c;
  }
  if (use) out[offset++] = quote;
  return offset;
}

/**
 * Text format (CopyAttributeOutText): control characters with a letter escape get it, backslash
 * and the delimiter get a backslash, everything else is written as it is.
 */
function textEscaped(format: LineFormat, c: number): boolean {
  return c === BACKSLASH || c === format.delimiter || LETTER_OF[c] !== 0;
}

/**
 * CSV (CopyAttributeOutCSV): quoted when asked (FORCE_QUOTE), when equal to the NULL marker, when
 * `\.` is alone on its line, or when it holds the delimiter, the quote, CR or LF.
 */
function csvQuoted(
  format: LineFormat,
  src: Buffer,
  start: number,
  end: number,
  quoted: boolean,
  singleColumn: boolean,
): boolean {
  if (quoted || sameAs(src, start, end, format.nullMarker)) return true;
  if (singleColumn && end - start === 2 && src[start] === BACKSLASH && src[start + 1] === 0x2e) {
    return true;
  }
  const { delimiter, quote } = format;
  for (let i = start; i < end; i++) {
    const c = src[i]!;
    if (c === delimiter || c === quote || c === NEWLINE || c === CR) return true;
  }
  return false;
}

/** Control characters with a letter escape in text format: `\b \f \n \r \t \v`. */
const ESCAPE_PAIRS: Array<[letter: number, char: number]> = [
  [0x62, 0x08],
  [0x66, 0x0c],
  [0x6e, 0x0a],
  [0x72, 0x0d],
  [0x74, 0x09],
  [0x76, 0x0b],
];
/** Byte tables (a lookup per byte on the hot path): 0 where there is no escape. */
const TEXT_ESCAPES = new Uint8Array(256);
const LETTER_OF = new Uint8Array(256);
for (const [letter, char] of ESCAPE_PAIRS) {
  TEXT_ESCAPES[letter] = char;
  LETTER_OF[char] = letter;
}

/** Whether bytes [start, end) of `a` are `b` (Buffer#equals without a call into C++). */
function sameAs(a: Buffer, start: number, end: number, b: Buffer): boolean {
  if (end - start !== b.length) return false;
  for (let i = 0; i < b.length; i++) if (a[start + i] !== b[i]) return false;
  return true;
}

function isOctal(c: number | undefined): c is number {
  return c !== undefined && c >= 0x30 && c <= 0x37;
}

function hexValue(c: number | undefined): number {
  if (c === undefined) return -1;
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  return -1;
}

/**
 * Text escapes (CopyReadAttributesText): `\b \f \n \r \t \v`, octal `\ooo`, hex `\xhh`, and a
 * backslash before any other byte stands for that byte.
 */
function unescapeText(bytes: Buffer, start: number, end: number): Buffer {
  const out = Buffer.allocUnsafe(end - start);
  let n = 0;
  const at = (i: number) => (i < end ? bytes[i] : undefined);
  for (let i = start; i < end; i++) {
    const c = bytes[i]!;
    if (c !== BACKSLASH || i + 1 >= end) {
      out[n++] = c;
      continue;
    }
    const next = bytes[++i]!;
    if (isOctal(next)) {
      let value = next - 0x30;
      for (let k = 0; k < 2 && isOctal(at(i + 1)); k++) value = value * 8 + (bytes[++i]! - 0x30);
      out[n++] = value & 0xff;
    } else if (next === 0x78 && hexValue(at(i + 1)) >= 0) {
      let value = hexValue(bytes[++i]);
      if (hexValue(at(i + 1)) >= 0) value = value * 16 + hexValue(bytes[++i]);
      out[n++] = value;
    } else {
      out[n++] = TEXT_ESCAPES[next] || next;
    }
  }
  return out.subarray(0, n);
}

/** A CSV field's value: quotes removed, escaped quotes and escapes read (see scanFields). */
function unquoteCsv(format: LineFormat, bytes: Buffer, start: number, end: number): Buffer {
  const { quote, escape } = format;
  const out = Buffer.allocUnsafe(end - start);
  let n = 0;
  let inQuote = false;
  for (let i = start; i < end; i++) {
    const c = bytes[i]!;
    if (!inQuote) {
      if (c === quote) inQuote = true;
      else out[n++] = c;
    } else if (c === escape && i + 1 < end && (bytes[i + 1] === escape || bytes[i + 1] === quote)) {
      out[n++] = bytes[++i]!;
    } else if (c === quote) {
      inQuote = false;
    } else {
      out[n++] = c;
    }
  }
  return out.subarray(0, n);
}

/** The 11-byte signature that starts binary COPY data. */
export const BINARY_SIGNATURE = Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1');

/**
 * Binary COPY: a header (signature, int32 flags, int32 extension length, the extension), then
 * per tuple an int16 field count and per field an int32 length (-1 for NULL) and the bytes,
 * then the trailer, an int16 -1. `next` returns where the next piece ends, or -1 when it is not
 * complete in `bytes` yet.
 */
export class BinarySplitter {
  private headerDone = false;
  /** The trailer was seen: nothing may follow. */
  ended = false;

  /** The kind and end of the piece starting at `from`, or null when it is incomplete. */
  next(bytes: Buffer, from: number): { kind: 'header' | 'tuple' | 'trailer'; end: number } | null {
    if (this.ended) {
      if (from >= bytes.length) return null;
      throw new PgwardenError('ERR_PROTOCOL', 'binary COPY data after its trailer');
    }
    if (!this.headerDone) {
      if (bytes.length - from < 19) return null;
      if (!bytes.subarray(from, from + 11).equals(BINARY_SIGNATURE)) {
        throw new PgwardenError('ERR_PROTOCOL', 'binary COPY data without its signature');
      }
      const end = from + 19 + bytes.readInt32BE(from + 15);
      if (end > bytes.length) return null;
      this.headerDone = true;
      return { kind: 'header', end };
    }
    if (bytes.length - from < 2) return null;
    const count = bytes.readInt16BE(from);
    if (count === -1) {
      this.ended = true;
      return { kind: 'trailer', end: from + 2 };
    }
    let offset = from + 2;
    for (let i = 0; i < count; i++) {
      if (bytes.length - offset < 4) return null;
      const length = bytes.readInt32BE(offset);
      offset += 4 + Math.max(length, 0);
      if (offset > bytes.length) return null;
    }
    return { kind: 'tuple', end: offset };
  }
}

/** The fields of one binary tuple (int16 count, then length-prefixed values). */
export function decodeTuple(tuple: Buffer): CopyField[] {
  const count = tuple.readInt16BE(0);
  const fields: CopyField[] = [];
  let offset = 2;
  for (let i = 0; i < count; i++) {
    const length = tuple.readInt32BE(offset);
    offset += 4;
    fields.push({
      value: length < 0 ? null : tuple.subarray(offset, offset + length),
      quoted: false,
    });
    offset += Math.max(length, 0);
  }
  return fields;
}

/** Writes fields as one binary tuple. */
export function encodeTuple(fields: CopyField[]): Buffer {
  let size = 2;
  for (const f of fields) size += 4 + (f.value?.length ?? 0);
  const out = Buffer.allocUnsafe(size);
  out.writeInt16BE(fields.length, 0);
  let offset = 2;
  for (const f of fields) {
    out.writeInt32BE(f.value === null ? -1 : f.value.length, offset);
    offset += 4;
    if (f.value) offset += f.value.copy(out, offset);
  }
  return out;
}
