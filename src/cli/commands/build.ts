import type { Command } from 'commander';
import { NotSupportedError } from '../../errors.js';

/** Adds `pgwarden build`. Placeholder until its module lands: it refuses with ERR_NOT_SUPPORTED. */
export function registerBuild(program: Command): void {
  program
    .command('build')
    .description('(not built yet)')
    .action(() => {
      throw new NotSupportedError('pgwarden build is not built yet');
    });
}
