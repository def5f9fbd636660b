/**
 * Output of `pgwarden test`: OPA-style pretty text (one line per test with its package and
 * duration, then a summary) or JSON for tools.
 */
import { formatDiagnostic, type Diagnostic } from '../diagnostics.js';
import type { TestReport, TestResult } from './runner.js';

/** Process exit codes: all passed, compile/usage error, a test failed or errored. */
export const EXIT_OK = 0;
/** Compilation failed; no test ran. */
export const EXIT_ERROR = 1;
/** At least one test failed or errored. */
export const EXIT_FAILED = 2;

/** The exit code for a report. */
export function exitCode(report: TestReport): number {
  if (report.diagnostics.length > 0) return EXIT_ERROR;
  return report.results.some((r) => r.status === 'FAIL' || r.status === 'ERROR')
    ? EXIT_FAILED
    : EXIT_OK;
}

/** A duration the way `opa test` prints it (µs below a millisecond). */
export function formatDuration(ns: number): string {
  if (ns < 1_000_000) return `${(ns / 1000).toFixed(0)}µs`;
  if (ns < 1_000_000_000) return `${(ns / 1_000_000).toFixed(2)}ms`;
  return `${(ns / 1_000_000_000).toFixed(2)}s`;
}

/** Pretty text: tests grouped by file; `verbose` adds print output and failure details. */
export function formatPretty(report: TestReport, verbose: boolean): string {
  if (report.diagnostics.length > 0) return formatDiagnostics(report.diagnostics);
  const lines: string[] = [];
  let file: string | undefined;
  for (const r of report.results) {
    if (r.file !== file) {
      if (file !== undefined) lines.push('');
      file = r.file;
      lines.push(`${r.file}:`);
    }
    lines.push(`${r.package}.${r.name}: ${r.status} (${formatDuration(r.durationNs)})`);
    if (r.message && (r.status === 'ERROR' || verbose)) lines.push(`  ${r.message}`);
    if (r.output.length > 0 && (verbose || r.status !== 'PASS')) {
      lines.push(...r.output.map((o) => `  ${o}`));
    }
  }
  lines.push('-'.repeat(80));
  lines.push(...summaryLines(report.results));
  return lines.join('\n') + '\n';
}

function summaryLines(results: readonly TestResult[]): string[] {
  const n = results.length;
  if (n === 0) return ['no tests found'];
  const count = (s: TestResult['status']): number => results.filter((r) => r.status === s).length;
  const out: string[] = [];
  for (const s of ['PASS', 'FAIL', 'ERROR', 'SKIP'] as const) {
    if (count(s) > 0) out.push(`${s}: ${count(s)}/${n}`);
  }
  return out;
}

function formatDiagnostics(diags: readonly Diagnostic[]): string {
  const n = diags.length;
  return `${n} error${n === 1 ? '' : 's'} occurred during compilation:\n${diags
    .map(formatDiagnostic)
    .join('\n')}\n`;
}

/** JSON: one object per test (durations in nanoseconds), or the compile errors. */
export function formatJsonReport(report: TestReport): string {
  if (report.diagnostics.length > 0) {
    return JSON.stringify({ errors: report.diagnostics }, null, 2) + '\n';
  }
  const rows = report.results.map((r) => ({
    location: { file: r.file, row: r.line },
    package: r.package,
    name: r.name,
    status: r.status,
    duration: r.durationNs,
    ...(r.message ? { message: r.message } : {}),
    ...(r.output.length > 0 ? { output: r.output } : {}),
  }));
  return JSON.stringify(rows, null, 2) + '\n';
}
