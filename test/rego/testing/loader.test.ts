import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  classify,
  decodeRegorus,
  loadCases,
  parseCaseFile,
} from '../../../src/rego/conformance/loader.js';
import { parseJson } from '../../../src/rego/testing/parse.js';
import { formatValue, set, num, valuesEqual } from '../../../src/rego/testing/value.js';

const SHARED = path.resolve(import.meta.dirname, '../../../../shared/conformance');

describe('conformance loader', () => {
  it('reads an OPA case with exact big numbers, input_term sets and error codes', () => {
    const text = [
      '---',
      'cases:',
      '  - note: big/one',
      '    query: data.p.q = x',
      '    modules:',
      '      - |',
      '        package p',
      '        q := 1',
      '    data: { }',
      '    input_term: \'{"foo": {{1}}}\'',
      '    want_result:',
      '      - x: 12345678901234567890123',
      '    sort_bindings: true',
      '  - note: err/two',
      '    query: data.p.q = x',
      '    modules: ["package p"]',
      '    want_error_code: eval_conflict_error',
      '    want_error: complete rules must not produce multiple outputs',
    ].join('\n');
    const info = {
      file: '/x/opa/big/f.yaml',
      label: 'opa/big/f.yaml',
      suite: 'opa' as const,
      category: 'opa/big',
    };
    const [a, b] = parseCaseFile(text, info);
    expect(a?.id).toBe('opa/big/f.yaml#0');
    expect(a?.expect.kind).toBe('rows');
    if (a?.expect.kind !== 'rows') throw new Error('unreachable');
    expect(a.expect.sortBindings).toBe(true);
    expect(formatValue(a.expect.rows[0]!)).toBe('{"x": 12345678901234567890123}');
    expect(a.inputs[0]?.kind).toBe('term');
    expect(a.data).toBeDefined();
    expect(b?.expect).toEqual({
      kind: 'error',
      code: 'eval_conflict_error',
      message: 'complete rules must not produce multiple outputs',
    });
  });

  it('decodes regorus encodings and many! inputs', () => {
    const text = [
      'cases:',
      '  - note: m',
      '    data: {}',
      '    input:',
      '      many!: [{x: 1}, {x: 2}]',
      '    modules: []',
      '    query: data.test',
      '    want_result:',
      '      many!:',
      '        - a: {set!: [2, 1]}',
      '        - b: {object!: [{key: 1, value: "one"}]}',
      '  - note: e',
      '    modules: []',
      '    query: x',
      '    error: boom',
      '    strict: false',
    ].join('\n');
    const info = {
      file: '/r/regorus/q/t.yaml',
      label: 'regorus/q/t.yaml',
      suite: 'regorus' as const,
      category: 'regorus/q',
    };
    const [a, b] = parseCaseFile(text, info);
    expect(a?.inputs).toHaveLength(2);
    expect(a?.v0).toBe(true);
    expect(a?.strict).toBe(true);
    if (a?.expect.kind !== 'values') throw new Error('expected values');
    expect(a.expect.values.map(formatValue)).toEqual(['{"a": {1, 2}}', '{"b": {1: "one"}}']);
    expect(b?.expect).toEqual({ kind: 'error', message: 'boom', wordingOwn: true });
    expect(b?.strict).toBe(false);
    expect(valuesEqual(decodeRegorus(parseJson('{"set!": [1.0, 2]}')), set([num(2), num(1)]))).toBe(
      true,
    );
  });

  it('classifies files by the opa/ or regorus/ folder above them', () => {
    expect(classify('/a/shared/conformance/opa/strings/x.yaml').category).toBe('opa/strings');
    expect(classify('/a/regorus/builtins/time/x.yaml').category).toBe('regorus/builtins/time');
    expect(classify('/a/regorus/basic_001.yaml').category).toBe('regorus/(root)');
  });

  it.skipIf(!existsSync(SHARED))(
    'loads every shared case with the counts the README gives',
    async () => {
      const { cases, broken } = await loadCases([SHARED]);
      expect(broken).toEqual([]);
      expect(cases.filter((c) => c.suite === 'opa')).toHaveLength(574);
      expect(cases.filter((c) => c.suite === 'regorus')).toHaveLength(607);
      // Only the 5 OPA cases using experimental syntax are skipped; the 9 regorus cases marked
      // skip upstream run, with a remark saying so.
      expect(cases.filter((c) => c.skip).length).toBe(5);
      const marked = cases.filter((c) => c.unchecked?.includes('marked skip: true'));
      expect(marked).toHaveLength(9);
      const big = cases.filter((c) => c.inputs.some((i) => i.kind === 'term'));
      expect(big.length).toBeGreaterThan(0);
    },
  );
});
