// The COPY row codecs: what PostgreSQL writes for COPY ... TO STDOUT in text and CSV, read back
// into fields and written again, with hostile values (delimiters, newlines, quotes, backslashes,
// the NULL marker, Unicode) and hostile options.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  BinarySplitter,
  LineSplitter,
  decodeRow,
  decodeTuple,
  encodeRow,
  encodeTuple,
  lineFormat,
  type CopyField,
  type LineFormat,
} from '../../src/masking/copy-format.js';
import { DEFAULT_COPY_OPTIONS } from '../../src/masking/index.js';
import { analyzeStatements } from '../../src/sql/index.js';
import type { CopyOptions } from '../../src/sql/types.js';

const text = (over: Partial<CopyOptions> = {}) => lineFormat({ ...DEFAULT_COPY_OPTIONS, ...over });
const csv = (over: Partial<CopyOptions> = {}) =>
  lineFormat({ ...DEFAULT_COPY_OPTIONS, format: 'csv', delimiter: ',', null: '', ...over });

const values = (fields: CopyField[]) => fields.map((f) => f.value?.toString('utf8') ?? null);
const fieldsOf = (row: Array<string | null>): CopyField[] =>
  row.map((v) => ({ value: v === null ? null : Buffer.from(v, 'utf8'), quoted: false }));

/** Splits a whole stream into rows with the splitter, as the stream does. */
function rowsOf(format: LineFormat, bytes: Buffer): Buffer[] {
  const splitter = new LineSplitter(format);
  const rows: Buffer[] = [];
  let start = 0;
  for (let end = splitter.next(bytes, 0); end >= 0; end = splitter.next(bytes, end)) {
    rows.push(bytes.subarray(start, end - 1));
    start = end;
  }
  expect(start).toBe(bytes.length);
  return rows;
}

// Strings built from the characters that matter to the formats, mixed with ordinary ones.
const hostile = fc
  .array(
    fc.oneof(
      fc.constantFrom('\t', '\n', '\r', '\\', '"', "'", ',', ';', '|', '\\N', '\\.', 'N', ' '),
      fc.constantFrom('\b', '\f', '\v', '\x01', '\x7f', 'é', '€', '𝄞', '4111 1111 1111 1111'),
      fc.string({ maxLength: 4 }),
    ),
    { maxLength: 8 },
  )
  .map((parts) => parts.join(''));
const rowArb = fc.array(fc.option(hostile, { nil: null }), { minLength: 1, maxLength: 6 });

const textFormats = fc.constantFrom(
  text(),
  text({ delimiter: '|', null: 'NULL' }),
  text({ delimiter: ',', null: '' }),
  text({ delimiter: '\x01' }),
);
const csvFormats = fc.constantFrom(
  csv(),
  csv({ delimiter: ';', null: 'NULL' }),
  csv({ quote: "'", escape: "'" }),
  csv({ escape: '\\' }),
  csv({ delimiter: '\t', null: '\\N', quote: '|', escape: '~' }),
);

describe('COPY row codecs', () => {
  it('text: decode(encode(row)) is the row, split into rows by newlines', () => {
    fc.assert(
      fc.property(textFormats, fc.array(rowArb, { minLength: 1, maxLength: 4 }), (format, rows) => {
        // In text format a value that is written exactly as the NULL marker reads back as NULL,
        // as in PostgreSQL; such rows are not round trips.
        const marker = format.nullMarker.toString('utf8');
        fc.pre(rows.every((row) => row.every((v) => v !== marker)));
        const stream = Buffer.concat(rows.map((row) => encodeRow(format, fieldsOf(row))));
        const lines = rowsOf(format, stream);
        expect(lines.map((line) => values(decodeRow(format, line)))).toEqual(rows);
      }),
      { numRuns: 500 },
    );
  });

  it('CSV: decode(encode(row)) is the row, rows split only outside quotes', () => {
    fc.assert(
      fc.property(csvFormats, fc.array(rowArb, { minLength: 1, maxLength: 4 }), (format, rows) => {
        const stream = Buffer.concat(
          rows.map((row) => encodeRow(format, fieldsOf(row), row.length === 1)),
        );
        const lines = rowsOf(format, stream);
        expect(lines.map((line) => values(decodeRow(format, line)))).toEqual(rows);
      }),
      { numRuns: 500 },
    );
  });

  it('CSV rows split at any byte still end where they should', () => {
    fc.assert(
      fc.property(csvFormats, fc.array(rowArb, { minLength: 1, maxLength: 3 }), (format, rows) => {
        const stream = Buffer.concat(rows.map((row) => encodeRow(format, fieldsOf(row))));
        const whole = rowsOf(format, stream).length;
        // Feed the stream one byte at a time: the kept quoting state must find the same ends.
        const splitter = new LineSplitter(format);
        let ends = 0;
        for (let i = 0; i < stream.length; i++) {
          if (splitter.next(stream.subarray(0, i + 1), i) >= 0) ends++;
        }
        expect(ends).toBe(whole);
        expect(splitter.atRowStart).toBe(true);
      }),
      { numRuns: 200 },
    );
  });

  it('reads what PostgreSQL writes', () => {
    const t = text();
    expect(values(decodeRow(t, Buffer.from('1\\t2\t\\N\t\\\\N\ta\\nb\t\\101\\x41\\q')))).toEqual([
      '1\t2',
      null,
      '\\N',
      'a\nb',
      'AAq',
    ]);
    const c = csv();
    const fields = decodeRow(c, Buffer.from('1,,"","a,b","say ""hi""",x"y"z'));
    expect(values(fields)).toEqual(['1', null, '', 'a,b', 'say "hi"', 'xyz']);
    expect(fields.map((f) => f.quoted)).toEqual([false, false, true, true, true, true]);
    const escaped = csv({ escape: '\\' });
    expect(values(decodeRow(escaped, Buffer.from('"a\\"b\\\\c\\d",e\\f')))).toEqual([
      'a"b\\c\\d',
      'e\\f',
    ]);
  });

  it('writes as PostgreSQL writes', () => {
    expect(encodeRow(text(), fieldsOf(['a\tb', null, 'c\\d', 'e\nf'])).toString()).toBe(
      'a\\tb\t\\N\tc\\\\d\te\\nf\n',
    );
    expect(encodeRow(csv(), fieldsOf(['a,b', null, '', 'x"y', 'plain'])).toString()).toBe(
      '"a,b",,"","x""y",plain\n',
    );
    // FORCE_QUOTE: a field that came quoted goes out quoted; `\.` alone on a line is quoted.
    expect(encodeRow(csv(), [{ value: Buffer.from('7'), quoted: true }]).toString()).toBe('"7"\n');
    expect(encodeRow(csv(), fieldsOf(['\\.']), true).toString()).toBe('"\\."\n');
  });

  it('refuses a CSV row that ends inside quotes', () => {
    expect(() => decodeRow(csv(), Buffer.from('"open'))).toThrow(/inside quotes/);
  });

  it('binary: tuples round trip and the splitter waits for whole pieces', () => {
    const tuple = encodeTuple(fieldsOf(['a', null, '4111111111111111']));
    expect(values(decodeTuple(tuple))).toEqual(['a', null, '4111111111111111']);
    const header = Buffer.concat([
      Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1'),
      Buffer.alloc(4),
      Buffer.from([0, 0, 0, 2, 9, 9]),
    ]);
    const stream = Buffer.concat([header, tuple, Buffer.from([0xff, 0xff])]);
    const splitter = new BinarySplitter();
    expect(splitter.next(stream.subarray(0, 20), 0)).toBeNull();
    expect(splitter.next(stream, 0)).toEqual({ kind: 'header', end: header.length });
    expect(splitter.next(stream.subarray(0, stream.length - 3), header.length)).toBeNull();
    expect(splitter.next(stream, header.length)).toEqual({
      kind: 'tuple',
      end: header.length + tuple.length,
    });
    expect(splitter.next(stream, header.length + tuple.length)?.kind).toBe('trailer');
    expect(() => new BinarySplitter().next(Buffer.alloc(19), 0)).toThrow(/signature/);
  });
});

describe('COPY options read from the statement', () => {
  const options = (sql: string) => analyzeStatements(sql)[0]!.copyOptions;

  it('fills in PostgreSQL defaults for text and CSV', () => {
    expect(options('COPY t TO STDOUT')).toEqual(DEFAULT_COPY_OPTIONS);
    expect(options('COPY t TO STDOUT (FORMAT csv)')).toEqual({
      ...DEFAULT_COPY_OPTIONS,
      format: 'csv',
      delimiter: ',',
      null: '',
    });
    expect(options('COPY t TO STDOUT BINARY')?.format).toBe('binary');
  });

  it('reads the old syntax and every spelling of HEADER', () => {
    expect(
      options("COPY t TO STDOUT CSV HEADER DELIMITER ';' NULL 'x' QUOTE '''' ESCAPE '\\'"),
    ).toEqual({
      format: 'csv',
      delimiter: ';',
      null: 'x',
      header: true,
      quote: "'",
      escape: '\\',
      encoding: null,
    });
    for (const on of ['HEADER', 'HEADER true', 'HEADER on', 'HEADER ON', 'HEADER 1']) {
      expect(options(`COPY t TO STDOUT (FORMAT csv, ${on})`)?.header, on).toBe(true);
    }
    for (const off of ['HEADER false', 'HEADER off', 'HEADER 0']) {
      expect(options(`COPY t TO STDOUT (FORMAT csv, ${off})`)?.header, off).toBe(false);
    }
    expect(options("COPY t TO STDOUT (ENCODING 'SJIS')")?.encoding).toBe('SJIS');
  });

  it('has none for COPY FROM and other statements', () => {
    expect(options('COPY t FROM STDIN')).toBeUndefined();
    expect(options('SELECT 1')).toBeUndefined();
  });
});
