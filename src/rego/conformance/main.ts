/**
 * `npm run conformance -- DIR... [--json] [--filter RE] [--min-pass-rate P]`: runs the YAML
 * conformance cases under the given folders against the project's compiler, prints a
 * per-category table and `N passed, N failed, N skipped`, and exits 0 when the pass rate is at
 * or above the threshold, 1 below it (2 on misuse). `bin/pgwarden-conformance.js` calls
 * {@link main} from the built `dist/`.
 */
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import type { ResultMode } from '../testing/evaluate.js';
import { loadToolchain } from '../testing/toolchain.js';
import type { CaseResult, ConformanceCase } from './cases.js';
import { runCase } from './execute.js';
import { loadCases } from './loader.js';
import { runInWorkers } from './pool.js';
import { formatJson, formatReport, summarize } from './report.js';

/** Where the command writes. */
export interface Io {
  stdout: { write(s: string): unknown };
  stderr: { write(s: string): unknown };
}

const USAGE = `usage: pgwarden-conformance DIR... [options]
  --json                 one JSON document instead of the table
  --filter RE            run only cases whose id or note matches RE
  --min-pass-rate P      exit 1 below this pass rate (0..1, or a percentage above 1)
  --workers N            parallel worker threads (default: CPUs; 0 runs in this thread)
  --timeout MS           per-case time limit (default 20000)
  --mode value|json      read results as Rego values (opa_value_dump: sets stay sets; the
                         default) or as JSON (opa_eval, the gateway's call; sets become arrays)
  --strict-messages      require regorus' own error wording (default: any error matches)
  --quiet                no per-case failure lines
  -v, --verbose          list passing cases too
`;

/** Parsed command line. */
export interface ConformanceOptions {
  dirs: string[];
  json: boolean;
  filter?: RegExp;
  minPassRate: number;
  workers: number;
  timeoutMs: number;
  mode: ResultMode;
  quiet: boolean;
  verbose: boolean;
  strictMessages: boolean;
}

/** Parses arguments (without `node` and the script); throws a message on misuse. */
export function parseOptions(args: string[]): ConformanceOptions {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      json: { type: 'boolean', default: false },
      filter: { type: 'string' },
      'min-pass-rate': { type: 'string', default: '0' },
      workers: { type: 'string' },
      timeout: { type: 'string', default: '20000' },
      mode: { type: 'string', default: 'value' },
      quiet: { type: 'boolean', default: false },
      'strict-messages': { type: 'boolean', default: false },
      verbose: { type: 'boolean', short: 'v', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) throw new UsageError('');
  if (positionals.length === 0) throw new UsageError('give at least one folder of case files');
  let rate = Number(values['min-pass-rate']);
  if (!Number.isFinite(rate) || rate < 0 || rate > 100) {
    throw new UsageError(`bad --min-pass-rate ${values['min-pass-rate']}`);
  }
  if (rate > 1) rate /= 100;
  const workers = values.workers === undefined ? availableParallelism() : Number(values.workers);
  const timeoutMs = Number(values.timeout);
  if (!Number.isInteger(workers) || workers < 0) throw new UsageError('bad --workers');
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) throw new UsageError('bad --timeout');
  if (values.mode !== 'json' && values.mode !== 'value') throw new UsageError('bad --mode');
  let filter: RegExp | undefined;
  if (values.filter !== undefined) {
    try {
      filter = new RegExp(values.filter);
    } catch {
      throw new UsageError(`bad --filter ${values.filter}`);
    }
  }
  return {
    dirs: positionals,
    json: values.json,
    ...(filter ? { filter } : {}),
    minPassRate: rate,
    workers,
    timeoutMs,
    mode: values.mode,
    quiet: values.quiet,
    verbose: values.verbose,
    strictMessages: values['strict-messages'],
  };
}

/** A command-line misuse; its message goes before the usage text. */
class UsageError extends Error {}

/** Runs the command; resolves to the exit code. */
export async function main(args: string[], io: Io = process): Promise<number> {
  let options: ConformanceOptions;
  try {
    options = parseOptions(args);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    io.stderr.write(`${message ? `pgwarden-conformance: ${message}\n` : ''}${USAGE}`);
    return err instanceof UsageError && message === '' ? 0 : 2;
  }
  const results = await runConformance(options);
  const summary = summarize(results);
  io.stdout.write(
    options.json
      ? formatJson(results)
      : formatReport(results, { failures: !options.quiet, passes: options.verbose }),
  );
  return summary.passRate >= options.minPassRate ? 0 : 1;
}

/** Loads and runs the cases; unreadable files count as failed cases. */
export async function runConformance(options: ConformanceOptions): Promise<CaseResult[]> {
  const { cases, broken } = await loadCases(options.dirs);
  const selected = options.filter
    ? cases.filter((c) => (options.filter as RegExp).test(`${c.id} ${c.note}`))
    : cases;
  const brokenResults: CaseResult[] = broken.map((b) => ({
    id: b.file,
    category: b.category,
    note: 'case file',
    status: 'fail',
    cause: 'harness_error',
    reason: b.reason,
    durationMs: 0,
  }));
  const results =
    options.workers === 0 ? await runHere(selected, options) : await runPooled(selected, options);
  return [...results, ...brokenResults];
}

async function runHere(
  cases: readonly ConformanceCase[],
  options: ConformanceOptions,
): Promise<CaseResult[]> {
  const tools = await loadToolchain(options.mode);
  const out: CaseResult[] = [];
  for (const c of cases) out.push(await runCase(c, tools, options));
  return out;
}

function runPooled(
  cases: readonly ConformanceCase[],
  options: ConformanceOptions,
): Promise<CaseResult[]> {
  return runInWorkers(cases, {
    workerUrl: new URL('./worker.js', import.meta.url),
    workerData: { mode: options.mode, strictMessages: options.strictMessages },
    workers: Math.min(options.workers, Math.max(1, cases.length)),
    timeoutMs: options.timeoutMs,
  });
}
