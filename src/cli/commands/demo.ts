import type { Command } from 'commander';
import { NotSupportedError } from '../../errors.js';

/** Adds `pgwarden demo`. Placeholder until its module lands: it refuses with ERR_NOT_SUPPORTED. */
export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('(not built yet)')
    .action(() => {
      throw new NotSupportedError('pgwarden demo is not built yet');
    });
}
