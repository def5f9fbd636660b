import type { Command } from 'commander';
import { NotSupportedError } from '../../errors.js';

/** Adds `pgwarden audit`. Placeholder until its module lands: it refuses with ERR_NOT_SUPPORTED. */
export function registerAudit(program: Command): void {
  program
    .command('audit')
    .description('(not built yet)')
    .action(() => {
      throw new NotSupportedError('pgwarden audit is not built yet');
    });
}
