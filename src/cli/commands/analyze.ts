import type { Command } from 'commander';
import { NotSupportedError } from '../../errors.js';

/** Adds `pgwarden analyze`. Placeholder until its module lands: it refuses with ERR_NOT_SUPPORTED. */
export function registerAnalyze(program: Command): void {
  program
    .command('analyze')
    .description('(not built yet)')
    .action(() => {
      throw new NotSupportedError('pgwarden analyze is not built yet');
    });
}
