import { describe, expect, it } from 'vitest';
import type { TestReport, TestResult } from '../../../src/rego/testing/runner.js';
import {
  exitCode,
  formatDuration,
  formatJsonReport,
  formatPretty,
} from '../../../src/rego/testing/test-report.js';

const t = (
  name: string,
  status: TestResult['status'],
  extra: Partial<TestResult> = {},
): TestResult => ({
  file: 'a_test.rego',
  line: 3,
  package: 'data.a',
  name,
  status,
  durationNs: 1500,
  output: [],
  ...extra,
});

describe('pgwarden test report', () => {
  const report: TestReport = {
    diagnostics: [],
    results: [
      t('test_ok', 'PASS', { output: ['quiet unless -v'] }),
      t('test_err', 'ERROR', {
        message: 'a.rego:3:1: complete rules must not produce multiple outputs',
      }),
      t('todo_x', 'SKIP'),
    ],
  };

  it('lists every test with status and duration, errors with their message', () => {
    const text = formatPretty(report, false);
    expect(text).toContain('a_test.rego:\ndata.a.test_ok: PASS (2µs)\n');
    expect(text).toContain('data.a.test_err: ERROR (2µs)\n  a.rego:3:1: complete rules');
    expect(text).not.toContain('quiet unless -v');
    expect(text.trimEnd().split('\n').slice(-3)).toEqual(['PASS: 1/3', 'ERROR: 1/3', 'SKIP: 1/3']);
    expect(formatPretty(report, true)).toContain('  quiet unless -v');
    expect(exitCode(report)).toBe(2);
  });

  it('uses exit 1 and lists diagnostics when compilation fails', () => {
    const failed: TestReport = {
      results: [],
      diagnostics: [
        {
          file: 'x.rego',
          line: 2,
          col: 5,
          code: 'rego_parse_error',
          message: 'unexpected }',
          severity: 'error',
        },
      ],
    };
    expect(exitCode(failed)).toBe(1);
    expect(formatPretty(failed, false)).toBe(
      '1 error occurred during compilation:\nx.rego:2:5: rego_parse_error: unexpected }\n',
    );
    expect(JSON.parse(formatJsonReport(failed)).errors).toHaveLength(1);
  });

  it('prints durations like opa test', () => {
    expect(formatDuration(999_000)).toBe('999µs');
    expect(formatDuration(1_234_567)).toBe('1.23ms');
    expect(formatDuration(2_500_000_000)).toBe('2.50s');
    expect(exitCode({ results: [], diagnostics: [] })).toBe(0);
  });
});
