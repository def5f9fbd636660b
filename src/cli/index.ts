/**
 * The `pgwarden` command line. Each subcommand lives in its own file under `commands/` and adds
 * itself to the program; this file only assembles them and turns errors into exit codes.
 */
import { Command, CommanderError } from 'commander';
import { isPgwardenError } from '../errors.js';
import { registerAnalyze } from './commands/analyze.js';
import { registerAudit } from './commands/audit.js';
import { registerBuild } from './commands/build.js';
import { registerDemo } from './commands/demo.js';
import { registerEval } from './commands/eval.js';
import { registerServe } from './commands/serve.js';
import { registerTest } from './commands/test.js';

/** Builds the program with every subcommand. */
export function createProgram(): Command {
  const program = new Command('pgwarden')
    .description('A PostgreSQL gateway for machine identities with policy-as-code')
    .exitOverride()
    .showHelpAfterError(false);
  for (const register of [
    registerServe,
    registerDemo,
    registerBuild,
    registerTest,
    registerEval,
    registerAnalyze,
    registerAudit,
  ]) {
    register(program);
  }
  return program;
}

/** Runs the CLI; resolves to the process exit code. */
export async function main(argv: string[]): Promise<number> {
  const program = createProgram();
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and version output end with exit code 0; misuse already printed its one-line reason.
      return err.exitCode;
    }
    if (isPgwardenError(err)) {
      process.stderr.write(`pgwarden: ${err.message} (${err.code})\n`);
      return 1;
    }
    process.stderr.write(`pgwarden: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
}
