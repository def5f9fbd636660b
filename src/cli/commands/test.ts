import type { Command } from 'commander';
import { NotSupportedError } from '../../errors.js';

/** Adds `pgwarden test`. Placeholder until its module lands: it refuses with ERR_NOT_SUPPORTED. */
export function registerTest(program: Command): void {
  program
    .command('test')
    .description('(not built yet)')
    .action(() => {
      throw new NotSupportedError('pgwarden test is not built yet');
    });
}
