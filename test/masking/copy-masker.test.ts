// COPY ... TO STDOUT output through the row masker: rows in any COPY format, split across
// CopyData messages anywhere, masked by lineage like DataRows, with the backstop on the rest.
import { describe, expect, it } from 'vitest';
import {
  CopyOutStream,
  DEFAULT_COPY_OPTIONS,
  copyResultColumns,
  createMaskerFactory,
} from '../../src/masking/index.js';
import type { CopyOptions, OutputLineage } from '../../src/sql/types.js';

const PAN = '4111111111111111';
const PAN2 = '5500000000000004';

const lineage = (name: string, sources: string[]): OutputLineage => ({
  name,
  sources,
  wholeRow: [],
  exact: true,
  unknown: false,
});
const OUTPUTS = [
  lineage('id', ['public.cards.id']),
  lineage('pan', ['public.cards.pan']),
  lineage('note', ['public.cards.note']),
];
const MASKS = { 'public.cards.pan': 'pan_last4' };

function stream(
  over: Partial<CopyOptions> = {},
  masks: Record<string, string> = MASKS,
  outputs = OUTPUTS,
  columns = 3,
): CopyOutStream {
  const options = { ...DEFAULT_COPY_OPTIONS, ...over };
  const binary = options.format === 'binary';
  const masker = createMaskerFactory()({
    ...copyResultColumns(columns, outputs, binary),
    masks,
    columnName: () => undefined,
  });
  return new CopyOutStream(options, columns, masker);
}

function copyData(bytes: Buffer | string): Buffer {
  const body = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes, 'utf8');
  const out = Buffer.alloc(5 + body.length);
  out[0] = 0x64;
  out.writeInt32BE(4 + body.length, 1);
  body.copy(out, 5);
  return out;
}

/** Feeds `data` in messages cut at `cuts`; returns what went out and the rows counted. */
function feed(s: CopyOutStream, data: string, cuts: number[] = []): { out: string; rows: number } {
  const bytes = Buffer.from(data, 'utf8');
  const bounds = [0, ...cuts, bytes.length];
  let out = '';
  let rows = 0;
  for (let i = 0; i + 1 < bounds.length; i++) {
    const chunk = s.data(copyData(bytes.subarray(bounds[i], bounds[i + 1])));
    rows += chunk.rows;
    if (chunk.message) {
      expect(chunk.message.readInt32BE(1)).toBe(chunk.message.length - 1);
      out += chunk.message.toString('utf8', 5);
    }
  }
  s.end();
  return { out, rows };
}

describe('COPY output masking', () => {
  it('masks a masked column in text format, the rest as sent', () => {
    const data = `1\t${PAN}\tann\\tx\n2\t${PAN2}\t\\N\n`;
    expect(feed(stream(), data)).toEqual({
      out: '1\t************1111\tann\\tx\n2\t************0004\t\\N\n',
      rows: 2,
    });
  });

  it('masks rows split across messages at every byte', () => {
    const data = `1,${PAN},"a ""quoted""\nnote"\n2,"${PAN2}",\n`;
    const whole = feed(stream({ format: 'csv', delimiter: ',', null: '' }), data);
    expect(whole.out).toBe('1,************1111,"a ""quoted""\nnote"\n2,"************0004",\n');
    expect(whole.rows).toBe(2);
    for (let cut = 1; cut < data.length; cut++) {
      const s = stream({ format: 'csv', delimiter: ',', null: '' });
      expect(feed(s, data, [cut]), `cut at ${cut}`).toEqual(whole);
    }
    const s = stream({ format: 'csv', delimiter: ',', null: '' });
    const everyByte = Array.from({ length: data.length - 1 }, (_, i) => i + 1);
    expect(feed(s, data, everyByte)).toEqual(whole);
  });

  it('sends nothing of a row before its end arrived', () => {
    const s = stream();
    const first = s.data(copyData(`1\t${PAN.slice(0, 8)}`));
    expect(first).toEqual({ message: null, rows: 0 });
    const second = s.data(copyData(`${PAN.slice(8)}\tx\n`));
    expect(second.rows).toBe(1);
    expect(second.message?.toString('utf8', 5)).toBe('1\t************1111\tx\n');
  });

  it('fails when the data ends inside a row', () => {
    const s = stream();
    s.data(copyData(`1\t${PAN}`));
    expect(() => s.end()).toThrow(/inside a row/);
    const quoted = stream({ format: 'csv', delimiter: ',', null: '' });
    quoted.data(copyData('1,"open\n'));
    expect(() => quoted.end()).toThrow(/inside a row/);
  });

  it('keeps a header line and counts only data rows; masks card numbers in names', () => {
    const s = stream({ format: 'csv', delimiter: ',', null: '', header: true });
    const data = `id,pan,"${PAN}"\n1,${PAN},x\n`;
    expect(feed(s, data)).toEqual({
      out: 'id,pan,"[card-number]"\n1,************1111,x\n',
      rows: 1,
    });
    const t = stream({ header: true });
    expect(feed(t, `id\tpan\tnote\n1\t${PAN}\tx\n`).out).toBe(
      'id\tpan\tnote\n1\t************1111\tx\n',
    );
  });

  it('redacts a derived column and one without lineage, and every column when outputs differ', () => {
    const derived = [
      lineage('id', []),
      { ...lineage('x', ['public.cards.pan']), exact: false },
      { ...lineage('f', []), unknown: true },
    ];
    expect(feed(stream({}, MASKS, derived), `1\tx${PAN}\tabc\n`).out).toBe(
      '1\t[redacted]\t[redacted]\n',
    );
    // Two outputs known for three columns: no column can be trusted by position.
    expect(feed(stream({}, MASKS, OUTPUTS.slice(0, 2)), '1\t2\t3\n').out).toBe(
      '[redacted]\t[redacted]\t[redacted]\n',
    );
  });

  it('applies the backstop to columns no mask applies to, escapes and floats included', () => {
    const s = stream({}, MASKS);
    expect(feed(s, `4.111111111111111e+15\t\\N\tcard ${PAN} \\x34111111111111111\n`).out).toBe(
      '[card-number]\t\\N\tcard [card-number] [card-number]\n',
    );
    // Without masks the backstop still runs; a row with nothing to find goes out as it came.
    const plain = stream({}, {});
    const message = copyData('1\tnothing\t42\n');
    expect(plain.data(message).message).toBe(message);
    expect(feed(stream({}, {}), `1\t${PAN}\tx\n`).out).toBe('1\t[card-number]\tx\n');
  });

  it('refuses a row whose column count differs from CopyOutResponse', () => {
    expect(() => stream().data(copyData('1\t2\n'))).toThrow(/2 columns, CopyOutResponse 3/);
  });

  it('refuses binary COPY with masked columns, and scans it otherwise', () => {
    expect(() => stream({ format: 'binary' })).toThrow(/binary format cannot be masked/);
    const header = Buffer.concat([Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1'), Buffer.alloc(8)]);
    const value = Buffer.from(`x ${PAN}`);
    const tuple = Buffer.alloc(2 + 4 + value.length);
    tuple.writeInt16BE(1, 0);
    tuple.writeInt32BE(value.length, 2);
    value.copy(tuple, 6);
    const data = Buffer.concat([header, tuple, Buffer.from([0xff, 0xff])]);
    const s = stream({ format: 'binary' }, {}, [lineage('n', ['public.t.n'])], 1);
    let out = Buffer.alloc(0);
    let rows = 0;
    for (const part of [data.subarray(0, 25), data.subarray(25)]) {
      const chunk = s.data(copyData(part));
      rows += chunk.rows;
      if (chunk.message) out = Buffer.concat([out, chunk.message.subarray(5)]);
    }
    s.end();
    expect(rows).toBe(1);
    expect(out.toString('latin1')).not.toContain(PAN);
    expect(out.toString('latin1')).toContain('x [card-number]');
    expect(out.subarray(0, 19)).toEqual(header);
  });

  it('counts rows without a masker and passes every message as it came', () => {
    const s = new CopyOutStream({ ...DEFAULT_COPY_OPTIONS }, 2, null);
    const first = copyData(`1\t${PAN}\n2\t`);
    expect(s.data(first)).toEqual({ message: first, rows: 1 });
    const second = copyData('x\n');
    expect(s.data(second)).toEqual({ message: second, rows: 1 });
    expect(s.stats()).toBeNull();
  });

  it('reads rows in SJIS whole: a character can end in a backslash byte', () => {
    // 表 in Shift JIS is 0x95 0x5C: its second byte is a backslash, here before the delimiter.
    const row = Buffer.concat([
      Buffer.from('1\t'),
      Buffer.from([0x95, 0x5c]),
      Buffer.from(`\t${PAN}\n`),
    ]);
    const options = { ...DEFAULT_COPY_OPTIONS };
    const backstop = createMaskerFactory()({
      ...copyResultColumns(3, OUTPUTS, false),
      masks: {},
      columnName: () => undefined,
    });
    const s = new CopyOutStream(options, 3, backstop, 'SJIS');
    const out = s.data(copyData(row)).message!.subarray(5);
    expect(out).toEqual(
      Buffer.concat([
        Buffer.from('1\t'),
        Buffer.from([0x95, 0x5c]),
        Buffer.from('\t[card-number]\n'),
      ]),
    );
    expect(s.stats()?.backstop).toBe(1);
    const masked = createMaskerFactory()({
      ...copyResultColumns(3, OUTPUTS, false),
      masks: MASKS,
      columnName: () => undefined,
    });
    expect(() => new CopyOutStream(options, 3, masked, 'Shift_JIS')).toThrow(
      /encoding Shift_JIS cannot be masked; use client_encoding UTF8/,
    );
    expect(() => new CopyOutStream(options, 3, masked, 'LATIN1')).not.toThrow();
  });

  it('reports masked values for the audit', () => {
    const s = stream();
    feed(s, `1\t${PAN}\tx\n2\t${PAN2}\ty ${PAN}\n`);
    expect(s.stats()).toEqual({
      columns: [{ column: 'public.cards.pan', method: 'pan_last4', values: 2 }],
      backstop: 1,
    });
  });
});
