import { describe, expect, it } from 'vitest';
import type { CaseResult, ConformanceCase } from '../../../src/rego/conformance/cases.js';
import { parseOptions } from '../../../src/rego/conformance/main.js';
import { runInWorkers } from '../../../src/rego/conformance/pool.js';
import {
  closingLine,
  formatReport,
  mainCauses,
  summarize,
} from '../../../src/rego/conformance/report.js';

const WORKER = new URL('./fixtures/pool-worker.mjs', import.meta.url);

function c(note: string, i: number): ConformanceCase {
  return {
    id: `opa/p/f.yaml#${i}`,
    suite: 'opa',
    category: 'opa/p',
    file: 'f',
    index: i,
    note,
    query: 'x = 1',
    modules: [],
    v0: false,
    inputs: [{ kind: 'none' }],
    expect: { kind: 'success' },
    strict: false,
  };
}

describe('worker pool', () => {
  it('survives a looping case, a crashing worker and a throwing worker', async () => {
    const cases = ['ok', 'loop', 'ok', 'crash', 'print', 'throw', 'ok'].map(c);
    const results = await runInWorkers(cases, { workerUrl: WORKER, workers: 2, timeoutMs: 1500 });
    expect(results.map((r) => r.status)).toEqual([
      'pass',
      'fail',
      'pass',
      'fail',
      'pass',
      'fail',
      'pass',
    ]);
    expect(results[1]).toMatchObject({ cause: 'timeout', reason: 'timed out after 1500 ms' });
    expect(results[3]).toMatchObject({ cause: 'crash' });
    expect(results[3]?.reason).toContain('exit code 3');
    expect(results[5]?.reason).toContain('worker blew up');
  });
});

describe('report', () => {
  const r = (category: string, status: CaseResult['status'], reason?: string): CaseResult =>
    ({
      id: `${category}#${Math.random()}`,
      category,
      note: 'n',
      status,
      durationMs: 1,
      ...(reason ? { reason, cause: status === 'fail' ? 'eval_error' : undefined } : {}),
    }) as CaseResult;

  it('counts by category, lists skips with reasons and ends with the closing line', () => {
    const results = [
      r('opa/a', 'pass'),
      r('opa/a', 'fail', 'evaluation error: test-0.rego:3:1: undefined function foo'),
      r('opa/a', 'fail', 'evaluation error: test-0.rego:9:1: undefined function foo'),
      r('regorus/b', 'skip', 'marked skip'),
    ];
    const s = summarize(results);
    expect(s.total).toMatchObject({ passed: 1, failed: 2, skipped: 1, total: 4 });
    expect(s.passRate).toBe(0.25);
    expect(closingLine(s)).toBe('1 passed, 2 failed, 1 skipped');
    expect(mainCauses(results)[0]?.[1]).toBe(2);
    const text = formatReport(results, { failures: true });
    expect(text).toMatch(/SKIP regorus\/b#.*: marked skip/);
    expect(text).toMatch(/opa\/a\s+1\s+2\s+0\s+3\s+33\.3%/);
    expect(text.trimEnd().split('\n').at(-1)).toBe('1 passed, 2 failed, 1 skipped');
  });

  it('parses the command line', () => {
    const o = parseOptions(['a', 'b', '--json', '--filter', 'strings', '--min-pass-rate', '60']);
    expect(o).toMatchObject({ dirs: ['a', 'b'], json: true, minPassRate: 0.6 });
    expect(o.filter?.test('opa/strings/x')).toBe(true);
    expect(() => parseOptions([])).toThrow(/at least one folder/);
    expect(() => parseOptions(['a', '--min-pass-rate', 'x'])).toThrow(/min-pass-rate/);
  });
});
