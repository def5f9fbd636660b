import type { Command } from 'commander';
import { PgwardenError } from '../../errors.js';
import { runRegoTests, type TestCommandOptions } from '../../rego/index.js';

/**
 * Adds `pgwarden test PATH... [--format pretty|json] [--run REGEX] [-v]`: runs every `test_*`
 * rule under the paths on the compiled WebAssembly. Exit code 0 when all pass, 2 when any
 * fails or errors, 1 when the policies do not compile.
 */
export function registerTest(program: Command): void {
  program
    .command('test')
    .description('run Rego unit tests (rules named test_*) on the compiled WebAssembly')
    .argument('<paths...>', 'files or folders with .rego files and data.json/data.yaml')
    .option('--format <format>', 'output format: pretty or json', 'pretty')
    .option('--run <regex>', 'run only tests whose full name (data.pkg.test_x) matches')
    .option('-v, --verbose', 'show print output and failure details of every test', false)
    .option('--v0-compatible', 'accept Rego v0 syntax', false)
    .action(async (paths: string[], opts: Record<string, unknown>) => {
      const format = String(opts.format);
      if (format !== 'pretty' && format !== 'json') {
        throw new PgwardenError('ERR_CONFIG_INVALID', `unknown --format ${format}`);
      }
      const options: TestCommandOptions = {
        format,
        verbose: opts.verbose === true,
        v0Compatible: opts.v0Compatible === true,
        ...(typeof opts.run === 'string' ? { run: opts.run } : {}),
      };
      const { output, exitCode } = await runRegoTests(paths, options);
      process.stdout.write(output);
      process.exitCode = exitCode;
    });
}
