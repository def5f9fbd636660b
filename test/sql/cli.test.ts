// `pgwarden analyze`, run in-process through the CLI entry point.
import { afterEach, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/index.js';
import { createDatabase, directClient, testServer } from '../support/pg.js';

async function run(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(['node', 'pgwarden', 'analyze', ...args], {
    writeOut: (text) => (out += text),
    writeErr: (text) => (err += text),
  });
  return { code, out, err };
}

afterEach(() => {
  process.exitCode = undefined;
});

describe('pgwarden analyze', () => {
  it('prints the facts of each statement as JSON', async () => {
    const { code, out } = await run('SELECT pan FROM cards WHERE id = 1; COPY cards TO STDOUT');
    expect(code).toBe(0);
    const facts = JSON.parse(out);
    expect(facts.map((f: { kind: string }) => f.kind)).toEqual(['select', 'copy']);
    expect(facts[0].columns).toEqual({
      read: ['public.cards.pan'],
      written: [],
      filtered: ['public.cards.id'],
      computed: ['public.cards.id'],
    });
  });

  it('resolves stars and views through the catalog of --database', async () => {
    const database = await createDatabase('sql_cli');
    const client = await directClient(database);
    await client.query(
      'CREATE TABLE cards (id int, pan text); CREATE VIEW v AS SELECT pan FROM cards',
    );
    await client.end();
    const { host, port, user, password } = testServer();
    const url = `postgres://${user}:${encodeURIComponent(password)}@${host}:${port}/${database}`;
    const { code, out } = await run('SELECT * FROM v', '--database', url);
    expect(code).toBe(0);
    expect(JSON.parse(out)[0].outputs).toEqual([
      {
        name: 'pan',
        sources: ['public.cards.pan', 'public.v.pan'],
        wholeRow: [],
        exact: true,
        unknown: false,
      },
    ]);
  });

  it('uses --search-path for unqualified names', async () => {
    const { out } = await run('SELECT 1 FROM ledger', '--search-path', 'payments, public');
    expect(JSON.parse(out)[0].tables[0].schema).toBe('payments');
  });

  it('--help describes the command and exits 0', async () => {
    const { code, out } = await run('--help');
    expect(code).toBe(0);
    expect(out).toContain('--database <url>');
  });

  it.each([
    [['SELEC 1'], 'pgwarden: syntax error at or near "SELEC" (ERR_SQL_PARSE)\n'],
    [
      ['SELECT 1', '--database', 'mysql://x/y'],
      'pgwarden: --database must be a postgres:// URL (ERR_CONFIG_INVALID)\n',
    ],
    [
      ['SELECT 1', '--database', 'not a url'],
      'pgwarden: --database is not a postgres:// URL (ERR_CONFIG_INVALID)\n',
    ],
    [['  '], 'pgwarden: no SQL given (ERR_CONFIG_INVALID)\n'],
    [[], "pgwarden: missing required argument 'sql'\n"],
  ])('exits 1 with one line for %j', async (args, message) => {
    const { code, out, err } = await run(...args);
    expect(code).toBe(1);
    expect(out).toBe('');
    expect(err).toBe(message);
  });
});
