import { describe, expect, it } from 'vitest';
import { createMaskerFactory, resolveMethod } from '../../src/masking/index.js';
import type { ResultField } from '../../src/masking/index.js';
import type { OutputLineage } from '../../src/sql/types.js';

const PAN = '4111111111111111';

function dataRow(values: Array<string | null>): Buffer {
  const parts = values.map((v) => {
    if (v === null) return Buffer.from([0xff, 0xff, 0xff, 0xff]);
    const bytes = Buffer.from(v, 'utf8');
    const len = Buffer.alloc(4);
    len.writeInt32BE(bytes.length);
    return Buffer.concat([len, bytes]);
  });
  const body = Buffer.concat(parts);
  const head = Buffer.alloc(7);
  head.write('D', 0);
  head.writeInt32BE(body.length + 6, 1);
  head.writeInt16BE(values.length, 5);
  return Buffer.concat([head, body]);
}

function readRow(message: Buffer): Array<string | null> {
  expect(message.readInt32BE(1)).toBe(message.length - 1);
  const out: Array<string | null> = [];
  let offset = 7;
  for (let i = 0; i < message.readInt16BE(5); i++) {
    const len = message.readInt32BE(offset);
    offset += 4;
    out.push(len < 0 ? null : message.toString('utf8', offset, offset + len));
    offset += Math.max(len, 0);
  }
  return out;
}

function field(name: string, tableOid = 0, columnAttr = 0, typeOid = 25): ResultField {
  return { name, tableOid, columnAttr, typeOid, typeSize: -1, typeMod: -1, format: 0 };
}

function lineage(name: string, sources: string[], exact = true): OutputLineage {
  return { name, sources, wholeRow: [], exact, unknown: false };
}

const columnName = (oid: number, attr: number) =>
  oid === 100 ? ['public.cards.id', 'public.cards.pan'][attr - 1] : undefined;

describe('methods', () => {
  it('keeps only what PCI DSS allows to display', () => {
    expect(resolveMethod('pan_last4').apply(PAN)).toBe('************1111');
    expect(resolveMethod('pan_first6_last4').apply('4111-1111-1111-1111')).toBe(
      '4111-11**-****-1111',
    );
    expect(resolveMethod('email').apply('ann@example.com')).toBe('***@example.com');
    expect(resolveMethod({ method: 'partial', prefix: 2, suffix: 1 }).apply('abcdef')).toBe(
      'ab***f',
    );
    expect(resolveMethod('null').apply('x')).toBeNull();
  });

  it('hash gives the same token for the same input under one key', () => {
    const hash = resolveMethod('hash', { hmacKey: Buffer.from('k') });
    expect(hash.apply(PAN)).toBe(hash.apply(PAN));
    expect(hash.apply(PAN)).not.toContain('4111');
    expect(() => resolveMethod('hash')).toThrow(/needs a key/);
  });

  it('refuses unknown methods and bad parameters', () => {
    expect(() => resolveMethod('rot13')).toThrow(/unknown mask method/);
    expect(() => resolveMethod({ method: 'partial', prefix: -1 })).toThrow(/non-negative/);
  });
});

describe('row masker', () => {
  const factory = createMaskerFactory();
  const masks = { 'public.cards.pan': 'pan_last4' };

  it('masks a column tied to the table by RowDescription', () => {
    const masker = factory({
      fields: [field('id', 100, 1, 23), field('pan', 100, 2)],
      outputs: [],
      masks,
      columnName,
    });
    const out = masker.transformRow(dataRow(['7', PAN]));
    expect(readRow(out)).toEqual(['7', '************1111']);
    expect(masker.stats().columns).toEqual([
      { column: 'public.cards.pan', method: 'pan_last4', values: 1 },
    ]);
  });

  it('redacts computed columns derived from a masked column', () => {
    const masker = factory({
      fields: [field('x'), field('y')],
      outputs: [lineage('x', ['public.cards.pan'], false), lineage('y', ['public.cards.pan'])],
      masks,
      columnName,
    });
    expect(readRow(masker.transformRow(dataRow([`pan:${PAN}`, PAN])))).toEqual([
      '[redacted]',
      '************1111',
    ]);
  });

  it('fails closed when lineage is unknown', () => {
    const masker = factory({
      fields: [field('x')],
      outputs: [{ name: 'x', sources: [], wholeRow: [], exact: false, unknown: true }],
      masks,
      columnName,
    });
    expect(readRow(masker.transformRow(dataRow(['anything'])))).toEqual(['[redacted]']);
  });

  it('sets non-text masked values to NULL so clients can still parse the row', () => {
    const masker = factory({
      fields: [field('pan', 100, 2, 20)],
      outputs: [],
      masks,
      columnName,
    });
    expect(readRow(masker.transformRow(dataRow([PAN])))).toEqual([null]);
  });

  it('backstop masks card numbers lineage missed, and leaves other rows as the same buffer', () => {
    const masker = factory({ fields: [field('note')], outputs: [], masks: {}, columnName });
    const leaked = masker.transformRow(dataRow([`card 4111 1111 1111 1111 seen`]));
    expect(readRow(leaked)[0]).not.toMatch(/4111 1111 1111 1111/);
    expect(masker.stats().backstop).toBe(1);
    const plain = dataRow(['order 12345678901234 (not Luhn)']);
    const same = masker.transformRow(plain);
    expect(same).toBe(plain);
  });

  it('masks every row, however many', () => {
    const masker = factory({ fields: [field('pan', 100, 2)], outputs: [], masks, columnName });
    for (let i = 0; i < 5000; i++) {
      expect(readRow(masker.transformRow(dataRow([PAN])))[0]).toBe('************1111');
    }
    expect(masker.stats().columns[0]!.values).toBe(5000);
  });
});
