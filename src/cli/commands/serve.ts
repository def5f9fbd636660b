import type { Command } from 'commander';
import { NotSupportedError } from '../../errors.js';

/** Adds `pgwarden serve`. Placeholder until its module lands: it refuses with ERR_NOT_SUPPORTED. */
export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('(not built yet)')
    .action(() => {
      throw new NotSupportedError('pgwarden serve is not built yet');
    });
}
