/**
 * The `pgwarden` command line. Each subcommand lives in its own file under `commands/` and adds
 * itself to the program; this file only assembles them and turns errors into exit codes.
 * Misuse (an unknown command or option, a missing argument) prints one line and exits 1;
 * a configuration file with problems prints one line per problem.
 */
import { readFileSync } from 'node:fs';
import { Command, CommanderError, type HelpContext } from 'commander';
import { ConfigError } from '../config/index.js';
import { isPgwardenError } from '../errors.js';
import { registerAnalyze } from './commands/analyze.js';
import { registerAudit } from './commands/audit.js';
import { registerBuild } from './commands/build.js';
import { registerDemo } from './commands/demo.js';
import { registerEval } from './commands/eval.js';
import { registerServe } from './commands/serve.js';
import { registerTest } from './commands/test.js';

/** Where the CLI writes; the process's stdout and stderr unless a test passes its own. */
export interface CliOutput {
  writeOut(text: string): void;
  writeErr(text: string): void;
}

const processOutput: CliOutput = {
  writeOut: (text) => process.stdout.write(text),
  writeErr: (text) => process.stderr.write(text),
};

/** The package version, read from package.json (two folders up from both src/cli and dist/cli). */
function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
  return typeof pkg.version === 'string' ? pkg.version : '0.0.0';
}

/**
 * Commander answers a missing subcommand (`pgwarden audit`) or `help` of an unknown one with the
 * whole help text on stderr; misuse here prints one line instead, like every other misuse.
 */
class PgwardenCommand extends Command {
  override createCommand(name?: string): Command {
    return new PgwardenCommand(name);
  }

  override help(context?: HelpContext | ((text: string) => string)): never {
    if (typeof context !== 'object' || !context.error) return super.help(context as HelpContext);
    const names = [this.name()];
    for (let cmd = this.parent; cmd; cmd = cmd.parent) names.unshift(cmd.name());
    const usage = names.join(' ');
    return this.error(`missing or unknown subcommand of '${usage}' (see ${usage} --help)`);
  }
}

/** Builds the program with every subcommand, writing to `output`. */
export function createProgram(output: CliOutput = processOutput): Command {
  // Output settings are copied into each subcommand when it is created, so they come first.
  const program = new PgwardenCommand('pgwarden')
    .description('A PostgreSQL gateway for machine identities with policy-as-code')
    .version(version(), '-V, --version')
    .exitOverride()
    .showHelpAfterError(false)
    .showSuggestionAfterError(false)
    .configureOutput({
      writeOut: (text) => output.writeOut(text),
      writeErr: (text) => output.writeErr(text),
      // Commander's reasons read "error: unknown option '--x'"; keep them to one line.
      outputError: (text, write) => write(`pgwarden: ${text.replace(/^error: /, '').trim()}\n`),
    });
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

/** Runs the CLI on `argv` (node, script, args...); resolves to the process exit code. */
export async function main(argv: string[], output: CliOutput = processOutput): Promise<number> {
  if (argv.length <= 2) {
    // Commander would print the whole help to stderr; one line says what is wrong.
    output.writeErr('pgwarden: missing command (see pgwarden --help)\n');
    return 1;
  }
  // Whether commander has already printed the reason for a CommanderError.
  let wroteErr = false;
  const program = createProgram({
    writeOut: (text) => output.writeOut(text),
    writeErr: (text) => {
      wroteErr = true;
      output.writeErr(text);
    },
  });
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and version end with exit code 0; misuse found while parsing already printed its
      // one-line reason. An InvalidArgumentError thrown by an action has not: print it here.
      if (err.exitCode !== 0 && !wroteErr) {
        output.writeErr(`pgwarden: ${err.message.replace(/^error: /, '')}\n`);
      }
      return err.exitCode;
    }
    if (err instanceof ConfigError) {
      const count = err.problems.length;
      const noun = count === 1 ? 'problem' : 'problems';
      output.writeErr(`pgwarden: ${err.source}: ${count} ${noun} (${err.code})\n`);
      output.writeErr(err.problems.map((line) => `${line}\n`).join(''));
      return 1;
    }
    if (isPgwardenError(err)) {
      output.writeErr(`pgwarden: ${err.message} (${err.code})\n`);
      return 1;
    }
    output.writeErr(`pgwarden: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
}
