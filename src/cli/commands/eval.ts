import type { Command } from 'commander';
import { NotSupportedError } from '../../errors.js';

/** Adds `pgwarden eval`. Placeholder until its module lands: it refuses with ERR_NOT_SUPPORTED. */
export function registerEval(program: Command): void {
  program
    .command('eval')
    .description('(not built yet)')
    .action(() => {
      throw new NotSupportedError('pgwarden eval is not built yet');
    });
}
