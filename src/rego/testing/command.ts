/**
 * The `pgwarden test` command without its command-line wiring: run the tests under the paths
 * and render the report, returning the text and the exit code (the CLI writes them).
 */
import { PgwardenError } from '../../errors.js';
import { runTests, type TestToolchain } from './runner.js';
import { exitCode, formatJsonReport, formatPretty } from './test-report.js';
import { loadToolchain } from './toolchain.js';

/** Options of `pgwarden test`. */
export interface TestCommandOptions {
  format: 'pretty' | 'json';
  verbose: boolean;
  v0Compatible: boolean;
  /** A regular expression over `data.pkg.test_name`. */
  run?: string;
}

/** Runs the tests; `tools` defaults to the project's compiler. */
export async function runRegoTests(
  paths: readonly string[],
  options: TestCommandOptions,
  tools?: TestToolchain,
): Promise<{ output: string; exitCode: number }> {
  let run: RegExp | undefined;
  if (options.run !== undefined) {
    try {
      run = new RegExp(options.run);
    } catch (err) {
      throw new PgwardenError('ERR_CONFIG_INVALID', `bad --run ${options.run}`, { cause: err });
    }
  }
  const report = await runTests(paths, tools ?? (await loadToolchain('json')), {
    v0Compatible: options.v0Compatible,
    ...(run ? { run } : {}),
  });
  const output =
    options.format === 'json' ? formatJsonReport(report) : formatPretty(report, options.verbose);
  return { output, exitCode: exitCode(report) };
}
