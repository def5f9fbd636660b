// The backstop on binary result values and the masker's refusal options.
import { describe, expect, it } from 'vitest';
import { createMaskerFactory, type ResultField } from '../../src/masking/index.js';
import { valueText } from '../../src/masking/binary.js';
import { PgwardenError } from '../../src/errors.js';

const PAN = '4111111111111111';

function field(name: string, typeOid: number, format: number, tableOid = 0): ResultField {
  return {
    name,
    tableOid,
    columnAttr: tableOid ? 2 : 0,
    typeOid,
    typeSize: -1,
    typeMod: -1,
    format,
  };
}

/** A DataRow message with the given raw values. */
function dataRow(values: Array<Buffer | null>): Buffer {
  const parts = values.map((v) => {
    const len = Buffer.alloc(4);
    len.writeInt32BE(v === null ? -1 : v.length);
    return v === null ? len : Buffer.concat([len, v]);
  });
  const body = Buffer.concat(parts);
  const head = Buffer.alloc(7);
  head.write('D', 0);
  head.writeInt32BE(body.length + 6, 1);
  head.writeInt16BE(values.length, 5);
  return Buffer.concat([head, body]);
}

function values(message: Buffer): Array<Buffer | null> {
  const out: Array<Buffer | null> = [];
  let offset = 7;
  for (let i = 0; i < message.readInt16BE(5); i++) {
    const len = message.readInt32BE(offset);
    offset += 4;
    out.push(len < 0 ? null : message.subarray(offset, offset + len));
    offset += Math.max(len, 0);
  }
  return out;
}

const int8 = (v: bigint) => {
  const b = Buffer.alloc(8);
  b.writeBigInt64BE(v);
  return b;
};
const float8 = (v: number) => {
  const b = Buffer.alloc(8);
  b.writeDoubleBE(v);
  return b;
};
/** Binary numeric of a non-negative integer: base-10000 words, trailing zero words dropped. */
function numeric(digits: string): Buffer {
  const padded = digits.padStart(Math.ceil(digits.length / 4) * 4, '0');
  const words: number[] = [];
  for (let i = 0; i < padded.length; i += 4) words.push(Number(padded.slice(i, i + 4)));
  const weight = words.length - 1;
  while (words.at(-1) === 0) words.pop();
  const b = Buffer.alloc(8 + words.length * 2);
  b.writeInt16BE(words.length, 0);
  b.writeInt16BE(weight, 2);
  words.forEach((w, i) => b.writeUInt16BE(w, 8 + i * 2));
  return b;
}
/** Binary one-dimensional int8[]. */
function int8Array(items: bigint[]): Buffer {
  const head = Buffer.alloc(20);
  head.writeInt32BE(1, 0);
  head.writeInt32BE(20, 8);
  head.writeInt32BE(items.length, 12);
  head.writeInt32BE(1, 16);
  const parts = items.map((v) => Buffer.concat([Buffer.of(0, 0, 0, 8), int8(v)]));
  return Buffer.concat([head, ...parts]);
}

const read = (typeOid: number, bytes: Buffer) => valueText(typeOid, 1, bytes, 0, bytes.length);

describe('valueText (binary formats)', () => {
  it('reads int8, float8, numeric and arrays of them as digits', () => {
    expect(read(20, int8(BigInt(PAN)))).toBe(PAN);
    expect(read(20, int8(42n))).toBeNull();
    expect(read(701, float8(Number(PAN)))).toBe(PAN);
    expect(read(1700, numeric(PAN))).toContain(PAN);
    expect(read(1700, numeric('3530111333300000'))).toContain('3530111333300000');
    expect(read(1016, int8Array([1n, BigInt(PAN), BigInt(PAN)]))).toBe(`${PAN},${PAN}`);
    expect(read(3802, Buffer.concat([Buffer.of(1), Buffer.from(`{"p": ${PAN}}`)]))).toContain(PAN);
  });

  it('reads a float8 in exponent text form as its integer digits', () => {
    expect(valueText(701, 0, Buffer.from('4.111111111111111e+15'), 0, 21)).toBe(PAN);
    expect(valueText(701, 0, Buffer.from('1.5'), 0, 3)).toBe('1.5');
  });

  it('does not read types that cannot hold 13 digits', () => {
    expect(read(23, Buffer.of(0, 0, 0, 1))).toBeNull();
    expect(read(1082, Buffer.of(0, 0, 0, 1))).toBeNull();
  });
});

describe('row masker on binary rows', () => {
  const factory = createMaskerFactory();
  const columnName = (oid: number, attr: number) =>
    oid === 100 && attr === 2 ? 'public.cards.pan' : undefined;

  it('backstop sets binary int8, float8, numeric and int8[] card numbers to NULL', () => {
    const fields = [
      field('a', 20, 1),
      field('b', 701, 1),
      field('c', 1700, 1),
      field('d', 1016, 1),
    ];
    const masker = factory({ fields, outputs: [], masks: {}, columnName });
    const row = dataRow([
      int8(BigInt(PAN)),
      float8(Number(PAN)),
      numeric(PAN),
      int8Array([BigInt(PAN)]),
    ]);
    expect(values(masker.transformRow(row))).toEqual([null, null, null, null]);
    expect(masker.stats().backstop).toBe(4);
    const harmless = dataRow([int8(7n), float8(1.5), numeric('12'), int8Array([3n])]);
    expect(masker.transformRow(harmless)).toBe(harmless);
  });

  it('re-encodes a masked text column in binary format, and NULLs a masked int8', () => {
    const fields = [field('pan', 25, 1, 100), field('x', 20, 1)];
    const outputs = [
      { name: 'pan', sources: ['public.cards.pan'], wholeRow: [], exact: true, unknown: false },
      { name: 'x', sources: ['public.cards.pan'], wholeRow: [], exact: false, unknown: false },
    ];
    const masker = factory({
      fields,
      outputs,
      masks: { 'public.cards.pan': 'pan_last4' },
      columnName,
    });
    const out = values(masker.transformRow(dataRow([Buffer.from(PAN), int8(BigInt(PAN))])));
    expect(out[0]!.toString()).toBe('************1111');
    expect(out[1]).toBeNull();
  });

  it('refuses a masked binary column of another type when asked to', () => {
    const refuse = createMaskerFactory({ binary: 'refuse' });
    const outputs = [
      { name: 'x', sources: ['public.cards.pan'], wholeRow: [], exact: false, unknown: false },
    ];
    const args = { outputs, masks: { 'public.cards.pan': 'redact' }, columnName };
    expect(() => refuse({ ...args, fields: [field('x', 20, 1)] })).toThrow(PgwardenError);
    expect(() => refuse({ ...args, fields: [field('x', 20, 0)] })).not.toThrow();
    expect(() => refuse({ ...args, fields: [field('x', 25, 1)] })).not.toThrow();
  });

  it('refuses a column without lineage when asked to, and redacts it by default', () => {
    const outputs = [{ name: 'x', sources: [], wholeRow: [], exact: false, unknown: true }];
    const args = {
      outputs,
      masks: { 'public.cards.pan': 'redact' },
      columnName,
      fields: [field('x', 25, 0)],
    };
    expect(() => createMaskerFactory({ unknownLineage: 'refuse' })(args)).toThrow(/lineage/);
    const masker = factory(args);
    expect(values(masker.transformRow(dataRow([Buffer.from('v')])))[0]!.toString()).toBe(
      '[redacted]',
    );
  });

  it('masks a view column by its lineage, though RowDescription ties it to the view', () => {
    const viewColumn = (oid: number) => (oid === 200 ? 'public.cards_v.pan' : undefined);
    const outputs = [
      { name: 'pan', sources: ['public.cards.pan'], wholeRow: [], exact: true, unknown: false },
    ];
    const masker = factory({
      fields: [field('pan', 25, 0, 200)],
      outputs,
      masks: { 'public.cards.pan': 'pan_last4' },
      columnName: viewColumn,
    });
    expect(values(masker.transformRow(dataRow([Buffer.from(PAN)])))[0]!.toString()).toBe(
      '************1111',
    );
  });

  it('refuses a message that is not a DataRow (COPY goes through CopyOutStream)', () => {
    const body = Buffer.from(`1\t${PAN}\n`);
    const copy = Buffer.concat([Buffer.from([0x64, 0, 0, 0, 4 + body.length]), body]);
    const plain = factory({ fields: [field('n', 25, 0)], outputs: [], masks: {}, columnName });
    expect(() => plain.transformRow(copy)).toThrow(/not a DataRow/);
  });

  it('refuses a row with more columns than its description', () => {
    const masker = factory({ fields: [field('a', 25, 0)], outputs: [], masks: {}, columnName });
    expect(() => masker.transformRow(dataRow([Buffer.from('x'), Buffer.from(PAN)]))).toThrow(
      /DataRow has 2 columns/,
    );
  });
});
