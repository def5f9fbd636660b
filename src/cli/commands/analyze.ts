/**
 * `pgwarden analyze "SQL" [--database URL]`: prints the statement facts a policy receives, as
 * JSON, so policy authors see exactly what `input.statement` holds. With a database URL, names,
 * `*` and views resolve through that database's catalog; without one, unqualified names default
 * to the search path (`public`).
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { PgwardenError } from '../../errors.js';
import { analyzeStatements, createAnalyzer } from '../../sql/index.js';
import type { StatementFacts } from '../../sql/index.js';

interface AnalyzeOptions {
  database?: string;
  searchPath?: string;
}

/** Validates a postgres:// URL and returns the database it names. */
function databaseOf(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    // The text is not echoed: a mistyped URL may still hold a password.
    throw new PgwardenError('ERR_CONFIG_INVALID', '--database is not a postgres:// URL');
  }
  if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:') {
    throw new PgwardenError('ERR_CONFIG_INVALID', '--database must be a postgres:// URL');
  }
  return decodeURIComponent(parsed.pathname.slice(1)) || 'postgres';
}

function parseSearchPath(value: string | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  const schemas = value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (schemas.length === 0) {
    throw new PgwardenError('ERR_CONFIG_INVALID', '--search-path needs at least one schema');
  }
  return schemas;
}

async function run(sql: string, options: AnalyzeOptions): Promise<StatementFacts[]> {
  const searchPath = parseSearchPath(options.searchPath);
  if (options.database === undefined) return analyzeStatements(sql, undefined, searchPath);
  const url = options.database;
  const database = databaseOf(url);
  const analyzer = createAnalyzer({ catalogConnection: () => ({ connectionString: url }) });
  return analyzer.analyze(sql, { database, searchPath });
}

/** Adds `pgwarden analyze`. */
export function registerAnalyze(program: Command): void {
  program
    .command('analyze')
    .description('print the facts a policy receives for SQL statements, as JSON')
    .argument('<sql>', 'statement text; several statements separated by ";"; "-" reads stdin')
    .option('--database <url>', 'postgres:// URL whose catalog resolves names, * and views')
    .option('--search-path <schemas>', 'comma-separated schemas to resolve unqualified names')
    .action(async (sql: string, options: AnalyzeOptions, command: Command) => {
      const input = sql === '-' ? readFileSync(0, 'utf8') : sql;
      if (input.trim() === '') {
        throw new PgwardenError('ERR_CONFIG_INVALID', 'no SQL given');
      }
      const facts = await run(input, options);
      const text = `${JSON.stringify(facts, null, 2)}\n`;
      const write = command.configureOutput().writeOut ?? ((t: string) => process.stdout.write(t));
      write(text);
    });
}
