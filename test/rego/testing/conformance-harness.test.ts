import { describe, expect, it } from 'vitest';
import type { ConformanceCase, Expectation } from '../../../src/rego/conformance/cases.js';
import { errorClass, messageMatches } from '../../../src/rego/conformance/compare.js';
import { runCase, type Evaluator, type Toolchain } from '../../../src/rego/conformance/execute.js';
import {
  buildQueryModule,
  lexicalVars,
  splitExpressions,
} from '../../../src/rego/conformance/query.js';
import { parseJson, parseRegoValue } from '../../../src/rego/testing/parse.js';
import { arr, num, obj, set, str, type RValue } from '../../../src/rego/testing/value.js';

/** A toolchain whose "module" answers with a canned result set, recording what it was given. */
function fakeTools(answer: (input: string | undefined) => RValue | Error, compileError?: string) {
  const seen: {
    modules: string[];
    data?: string;
    v0?: boolean;
    inputs: Array<string | undefined>;
  } = {
    modules: [],
    inputs: [],
  };
  const tools: Toolchain = {
    compile: (sources, options) => {
      seen.modules = sources.map((s) => `${s.file}\n${s.text}`);
      seen.v0 = options.v0Compatible ?? false;
      if (compileError) {
        return {
          ok: false,
          diagnostics: [
            {
              file: 'test-0.rego',
              line: 3,
              col: 1,
              code: 'rego_type_error',
              message: compileError,
              severity: 'error',
            },
          ],
        };
      }
      return { ok: true, wasm: new Uint8Array([0]), diagnostics: [] };
    },
    load: async (): Promise<Evaluator> => ({
      setData: (json) => {
        seen.data = json;
      },
      evaluate: (_ep, input) => {
        seen.inputs.push(input);
        const a = answer(input);
        if (a instanceof Error) throw a.message;
        return arr([obj([[str('result'), a]])]);
      },
    }),
  };
  return { tools, seen };
}

function opaCase(expect: Expectation, extra: Partial<ConformanceCase> = {}): ConformanceCase {
  return {
    id: 'opa/x/f.yaml#0',
    suite: 'opa',
    category: 'opa/x',
    file: '/x/opa/x/f.yaml',
    index: 0,
    note: 'x/case',
    query: 'data.p.q = x',
    modules: ['package p\nq := 1\n'],
    v0: false,
    inputs: [{ kind: 'none' }],
    expect,
    strict: false,
    ...extra,
  };
}

const rows = (...xs: RValue[]): Expectation => ({ kind: 'rows', rows: xs, sortBindings: false });

describe('runCase', () => {
  it('passes when the rows match, exact beyond 2^53, in any row order', async () => {
    const big = '12345678901234567890123';
    const { tools, seen } = fakeTools(() => parseJson(`[{"x": ${big}}, {"x": 1.0}]`));
    const c = opaCase(rows(parseJson('{"x": 1}'), parseJson(`{"x": ${big}}`)), {
      data: parseJson('{"a": 1}'),
    });
    const r = await runCase(c, tools);
    expect(r).toMatchObject({ status: 'pass' });
    expect(seen.data).toBe('{"a":1}');
    expect(seen.modules[0]).toMatch(/^test-0\.rego\npackage p/);
    expect(seen.modules[1]).toContain('results := [{"x": x} |\ndata.p.q = x\n]');
  });

  it('fails with the values when a big number is off by one', async () => {
    const { tools } = fakeTools(() => parseJson('[{"x": 12345678901234567890124}]'));
    const r = await runCase(opaCase(rows(parseJson('{"x": 12345678901234567890123}'))), tools);
    expect(r.status).toBe('fail');
    expect(r.cause).toBe('wrong_result');
    expect(r.reason).toContain('12345678901234567890123');
  });

  it('compares sets as sorted lists for OPA and sorts lists with sort_bindings', async () => {
    const { tools } = fakeTools(() => arr([obj([[str('x'), set([num(3), num(1)])]])]));
    expect((await runCase(opaCase(rows(parseJson('{"x": [1, 3]}'))), tools)).status).toBe('pass');
    const { tools: t2 } = fakeTools(() => parseJson('[{"x": [3, 1]}]'));
    const sorted: Expectation = {
      kind: 'rows',
      rows: [parseJson('{"x": [1, 3]}')],
      sortBindings: true,
    };
    expect((await runCase(opaCase(sorted), t2)).status).toBe('pass');
    expect((await runCase(opaCase(rows(parseJson('{"x": [1, 3]}'))), t2)).status).toBe('fail');
  });

  it('renders non-string keys as JSON text like OPA results', async () => {
    const { tools } = fakeTools(() => parseRegoValue('[{"x": {1: "a", {"3": 4}: "b"}}]'));
    const want = parseJson('{"x": {"1": "a", "{\\"3\\": 4}": "b"}}');
    expect((await runCase(opaCase(rows(want)), tools)).status).toBe('pass');
  });

  it('treats an empty want_result as undefined', async () => {
    const { tools } = fakeTools(() => arr([]));
    expect((await runCase(opaCase(rows()), tools)).status).toBe('pass');
  });

  it('matches conflict errors across OPA wordings and checks the error class', async () => {
    const want: Expectation = {
      kind: 'error',
      code: 'eval_conflict_error',
      message: 'complete rules must not produce multiple outputs',
    };
    const { tools } = fakeTools(() => new Error('rule data.p.q produced conflicting values'));
    expect((await runCase(opaCase(want), tools)).status).toBe('pass');
    const { tools: t2 } = fakeTools(() => new Error('operand 1 must be number but got string'));
    const r = await runCase(opaCase({ kind: 'error', code: 'eval_conflict_error' }), t2);
    expect(r).toMatchObject({ status: 'fail', cause: 'wrong_error' });
    const { tools: t3 } = fakeTools(() => arr([]));
    expect((await runCase(opaCase(want), t3)).cause).toBe('missing_error');
  });

  it('accepts regorus error wording differences with a remark unless messages are strict', async () => {
    const want: Expectation = {
      kind: 'error',
      message: '`count` requires array',
      wordingOwn: true,
    };
    const { tools } = fakeTools(
      () => new Error('count: operand 1 must be one of {array} but got null'),
    );
    const loose = await runCase(opaCase(want, { suite: 'regorus' }), tools);
    expect(loose.status).toBe('pass');
    expect(loose.remark).toContain('error wording differs');
    const strict = await runCase(opaCase(want, { suite: 'regorus' }), tools, {
      strictMessages: true,
    });
    expect(strict).toMatchObject({ status: 'fail', cause: 'wrong_error' });
    const { tools: t2 } = fakeTools(() => arr([]));
    expect((await runCase(opaCase(want, { suite: 'regorus' }), t2)).cause).toBe('missing_error');
    // A builtin the compiler lacks is a gap, not the same failure in other words.
    const gap: Expectation = {
      kind: 'error',
      message: '`rand.intn` expects 2 arguments',
      wordingOwn: true,
    };
    const { tools: t3 } = fakeTools(() => arr([]), 'undefined function rand.intn');
    expect((await runCase(opaCase(gap, { suite: 'regorus' }), t3)).status).toBe('fail');
  });

  it('reports compile errors with their position', async () => {
    const { tools } = fakeTools(() => arr([]), 'undefined function foo');
    const r = await runCase(opaCase(rows()), tools);
    expect(r.cause).toBe('compile_error');
    expect(r.reason).toContain('test-0.rego:3:1: rego_type_error: undefined function foo');
  });

  it('runs regorus cases once per input and collects values as regorus does', async () => {
    // One solution per input: its expression value; the first input also has a second row.
    const { tools, seen } = fakeTools((input) =>
      input === '{"x":1}'
        ? arr([arr([set([str('a')])]), arr([num(2)])])
        : arr([arr([set([str(input ?? '')])])]),
    );
    const c = opaCase(
      {
        kind: 'values',
        values: [arr([set([str('a')])]), arr([num(2)]), set([str('{"x":2}')])],
      },
      {
        suite: 'regorus',
        query: 'data.test',
        v0: true,
        inputs: [
          { kind: 'value', value: parseJson('{"x": 1}') },
          { kind: 'value', value: parseJson('{"x": 2}') },
        ],
      },
    );
    const r = await runCase(c, tools);
    expect(r.reason).toBeUndefined();
    expect(r.status).toBe('pass');
    expect(seen.inputs).toEqual(['{"x":1}', '{"x":2}']);
    expect(seen.v0).toBe(true);
    expect(seen.modules.at(-1)).toContain('[[__pgw_v0] |\n__pgw_v0 := data.test\n]');
  });

  it('skips with the reason and never crashes on a broken module', async () => {
    const { tools } = fakeTools(() => arr([]));
    const r = await runCase(opaCase(rows(), { skip: 'experimental syntax' }), tools);
    expect(r).toMatchObject({ status: 'skip', reason: 'experimental syntax' });
    const { tools: t2 } = fakeTools(() => str('not a result set'));
    const r2 = await runCase(opaCase(rows()), t2);
    expect(r2.status).toBe('fail');
  });
});

describe('query module', () => {
  it('finds query vars lexically, without roots, keywords, calls or fields', () => {
    expect(lexicalVars('data.x.p[x] = z')).toEqual(['x', 'z']);
    expect(lexicalVars('data.generated.p(1) = x')).toEqual(['x']);
    expect(lexicalVars('count(input.a) > n; time.now_ns() = t; _ = 1')).toEqual(['n', 't']);
    expect(lexicalVars('data.test.p[{"a":"b"}] = x')).toEqual(['x']);
    expect(lexicalVars('1 / 0')).toEqual([]);
  });

  it('splits expressions outside brackets and strings', () => {
    expect(splitExpressions('1 == 1; [1;2] == x\n"a;b" == y')).toEqual([
      '1 == 1',
      '[1;2] == x',
      '"a;b" == y',
    ]);
  });

  it('builds value, statement, data and with-input forms', () => {
    expect(buildQueryModule('1 == 2', { valueWhenNoVars: true }).module).toContain(
      '[[__pgw_v0] |\n__pgw_v0 := 1 == 2\n]',
    );
    expect(buildQueryModule('1 = 2', { valueWhenNoVars: true }).module).toContain(
      '[[true] |\n1 = 2\n]',
    );
    expect(buildQueryModule('x = 1; [1][_]', { valueWhenNoVars: true }).module).toContain(
      '[{"x": x} |',
    );
    expect(buildQueryModule('1 = 2; [1][_]', { valueWhenNoVars: true }).module).toContain(
      '[[true, __pgw_v1] |\n1 = 2\n__pgw_v1 := [1][_]\n__pgw_v1 != false\n]',
    );
    expect(
      buildQueryModule('data', { valueWhenNoVars: true, dataRoots: ['test', 'a'] }).module,
    ).toContain('[[__pgw_v] | __pgw_v := {"test": data["test"], "a": data["a"]}]');
    const withInput = buildQueryModule('data.p.q = x', {
      valueWhenNoVars: false,
      inputTerm: parseRegoValue('{"foo": {{1}}}'),
    });
    expect(withInput.module).toContain('with input as {"foo": {{1}}}');
  });
});

describe('error matching', () => {
  it('strips OPA location prefixes and knows the error classes', () => {
    expect(
      messageMatches(
        'test-0.rego:4: eval_type_error: x: operand 2 must be set',
        'x: operand 2 must be set but got',
      ),
    ).toBe(true);
    expect(messageMatches('divide by zero', 'div: divide by zero')).toBe(true);
    expect(messageMatches('divide by zero', 'modulo by zero')).toBe(false);
    expect(errorClass('object insert conflict')).toBe('eval_conflict_error');
    expect(errorClass('operand 1 must be one of {array} but got null')).toBe('eval_type_error');
    expect(errorClass('time outside of valid range')).toBeUndefined();
  });
});
