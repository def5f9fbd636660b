/**
 * Conformance reports: a per-category table, every skip with its reason, the failures, the
 * main causes of failure, and the closing line `N passed, N failed, N skipped`; or the same as
 * one JSON document for machines.
 */
import type { CaseResult, FailureCause } from './cases.js';

/** Counts for one category (or the total). */
export interface CategoryCounts {
  readonly category: string;
  readonly passed: number;
  readonly failed: number;
  readonly skipped: number;
  readonly total: number;
}

/** The run in numbers. */
export interface Summary {
  readonly categories: CategoryCounts[];
  readonly total: CategoryCounts;
  /** passed / total (skips count as not passed), 0..1; 0 for an empty run. */
  readonly passRate: number;
  readonly causes: Partial<Record<FailureCause, number>>;
}

/** Sums results by category. */
export function summarize(results: readonly CaseResult[]): Summary {
  const by = new Map<string, { passed: number; failed: number; skipped: number }>();
  const causes: Partial<Record<FailureCause, number>> = {};
  for (const r of results) {
    const c = by.get(r.category) ?? { passed: 0, failed: 0, skipped: 0 };
    if (r.status === 'pass') c.passed++;
    else if (r.status === 'fail') c.failed++;
    else c.skipped++;
    by.set(r.category, c);
    if (r.status === 'fail' && r.cause) causes[r.cause] = (causes[r.cause] ?? 0) + 1;
  }
  const categories = [...by.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([category, c]) => ({ category, ...c, total: c.passed + c.failed + c.skipped }));
  const sum = (k: 'passed' | 'failed' | 'skipped'): number =>
    categories.reduce((n, c) => n + c[k], 0);
  const total = {
    category: 'total',
    passed: sum('passed'),
    failed: sum('failed'),
    skipped: sum('skipped'),
    total: results.length,
  };
  return {
    categories,
    total,
    passRate: total.total === 0 ? 0 : total.passed / total.total,
    causes,
  };
}

const pct = (n: number, d: number): string => (d === 0 ? '-' : `${((100 * n) / d).toFixed(1)}%`);

/** The per-category table, with a total row. */
export function formatTable(s: Summary): string {
  const width = Math.max(8, ...s.categories.map((c) => c.category.length));
  const row = (c: CategoryCounts): string =>
    [
      c.category.padEnd(width),
      String(c.passed).padStart(6),
      String(c.failed).padStart(6),
      String(c.skipped).padStart(7),
      String(c.total).padStart(6),
      pct(c.passed, c.total).padStart(7),
    ].join(' ');
  const head = [
    'category'.padEnd(width),
    'passed'.padStart(6),
    'failed'.padStart(6),
    'skipped'.padStart(7),
    'total'.padStart(6),
    'rate'.padStart(7),
  ].join(' ');
  const rule = '-'.repeat(head.length);
  return [head, rule, ...s.categories.map(row), rule, row(s.total)].join('\n');
}

/** One line per skipped case with its reason. */
export function formatSkips(results: readonly CaseResult[]): string[] {
  return results
    .filter((r) => r.status === 'skip')
    .map((r) => `SKIP ${r.id} (${r.note}): ${r.reason ?? 'no reason given'}`);
}

/** One line per failed case with its first reason line. */
export function formatFailures(results: readonly CaseResult[]): string[] {
  return results
    .filter((r) => r.status === 'fail')
    .map((r) => `FAIL ${r.id} (${r.note}): ${oneLine(r.reason ?? 'no reason given')}`);
}

/** The most common failure reasons, grouped so that one gap in the compiler is one line. */
export function mainCauses(results: readonly CaseResult[], top = 20): Array<[string, number]> {
  const counts = new Map<string, number>();
  for (const r of results) {
    if (r.status !== 'fail') continue;
    const key = causeKey(r);
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return [...counts.entries()].sort((a, b) => b[1] - a[1]).slice(0, top);
}

/** A grouping key: the first diagnostic or error without positions, values blurred. */
function causeKey(r: CaseResult): string {
  const reason = oneLine(r.reason ?? '');
  const firstLine = (s: string): string =>
    s
      .replace(/\S+\.rego:\d+(:\d+)?:\s*/g, '')
      .split(/; |\\n/)[0]
      ?.replace(/\b\d+\b/g, 'N')
      .slice(0, 110) ?? '';
  switch (r.cause) {
    case 'compile_error':
      return `compile error: ${firstLine(reason.replace(/^compile error: /, ''))}`;
    case 'eval_error':
      return `evaluation error: ${firstLine(reason.replace(/^evaluation error: /, ''))}`;
    case 'missing_error': {
      const code = /want error (eval_\w+)/.exec(reason)?.[1];
      return `no error raised where one is expected${code ? ` (${code})` : ''}`;
    }
    case 'wrong_error': {
      const got = /, got (.*)$/.exec(reason)?.[1] ?? reason;
      return `different error: ${firstLine(got.replace(/^"|"$/g, ''))}`;
    }
    case 'wrong_result':
      return `wrong result in ${r.category}`;
    default:
      return `${r.cause ?? 'unknown'}: ${firstLine(reason)}`;
  }
}

function oneLine(s: string): string {
  const line = s.replace(/\s+/g, ' ').trim();
  return line.length > 400 ? `${line.slice(0, 400)}...` : line;
}

/** The closing line. */
export function closingLine(s: Summary): string {
  return `${s.total.passed} passed, ${s.total.failed} failed, ${s.total.skipped} skipped`;
}

/** The whole human report. */
export function formatReport(
  results: readonly CaseResult[],
  options: { failures: boolean; passes?: boolean },
): string {
  const s = summarize(results);
  const parts: string[] = [];
  if (options.passes) {
    parts.push(
      ...results.filter((r) => r.status === 'pass').map((r) => `PASS ${r.id} (${r.note})`),
    );
  }
  if (options.failures) parts.push(...formatFailures(results));
  parts.push(...formatSkips(results));
  if (parts.length > 0) parts.push('');
  parts.push(formatTable(s), '');
  const causes = mainCauses(results);
  if (causes.length > 0) {
    parts.push('main causes of failure:');
    parts.push(...causes.map(([k, n]) => `${String(n).padStart(5)}  ${k}`), '');
  }
  const remarked = results.filter(
    (r) => r.status === 'pass' && r.remark?.startsWith('error'),
  ).length;
  for (const r of results.filter(
    (x) => x.status === 'pass' && x.remark && !x.remark.startsWith('error'),
  )) {
    parts.push(`NOTE ${r.id} (${r.note}) passed, but ${r.remark}`);
  }
  if (remarked > 0) {
    parts.push(
      `${remarked} of the passes raised an error worded differently from regorus' own message ` +
        '(--strict-messages counts them as failures)',
    );
  }
  parts.push(`pass rate ${pct(s.total.passed, s.total.total)}`);
  parts.push(closingLine(s));
  return parts.join('\n') + '\n';
}

/** The machine report. */
export function formatJson(results: readonly CaseResult[]): string {
  const s = summarize(results);
  return (
    JSON.stringify(
      {
        passed: s.total.passed,
        failed: s.total.failed,
        skipped: s.total.skipped,
        total: s.total.total,
        passRate: s.passRate,
        passedWithDifferentErrorWording: results.filter(
          (r) => r.status === 'pass' && r.remark?.startsWith('error'),
        ).length,
        causes: s.causes,
        categories: s.categories,
        cases: results,
      },
      null,
      2,
    ) + '\n'
  );
}
