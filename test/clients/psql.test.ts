// psql through the gateway, with a token as the password: over TLS with sslmode=verify-full
// against the demo's CA, and over plaintext on loopback.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run, startDemoProcess, superuserEnv, type DemoProcess } from './support/demo.js';

let demo: DemoProcess;

beforeAll(async () => {
  demo = await startDemoProcess();
});

afterAll(async () => {
  await demo?.stop();
});

async function psql(name: string, sql: string, tls: boolean) {
  return run('psql', ['-X', '-At', '-v', 'ON_ERROR_STOP=1', '-c', sql], await demo.env(name, tls));
}

describe.each([
  ['TLS (verify-full)', true],
  ['plaintext loopback', false],
])('psql over %s', (_label, tls) => {
  it('reads cards with card numbers masked', async () => {
    const out = await psql('etl', 'SELECT id, pan FROM cards WHERE id <= 3 ORDER BY id', tls);
    expect(out.stderr).toBe('');
    expect(out.stdout.trim().split('\n')).toEqual([
      '1|************1111',
      '2|************4444',
      '3|***********0005',
    ]);
  });

  it('refuses DDL from the CI job with the reason and a decision id', async () => {
    const out = await psql('etl', 'CREATE TABLE scratch (a int)', tls);
    expect(out.code).not.toBe(0);
    expect(out.stderr).toMatch(/ERROR: +permission denied by policy: .*DDL \(create_table\)/);
    expect(out.stderr).toMatch(/refused for CI identities/);
    expect(out.stderr).toMatch(/\(decision d-[0-9a-f-]+\)/);
  });

  it('runs none of a multi-statement string when one statement is refused', async () => {
    const count = async () =>
      (
        await run('psql', ['-X', '-At', '-c', 'SELECT count(*) FROM transactions'], {
          ...superuserEnv(demo),
        })
      ).stdout.trim();
    const before = await count();
    // etl may insert into transactions, but not create tables: the whole string is refused.
    const out = await psql(
      'etl',
      'INSERT INTO transactions (card_id, merchant_id, amount) VALUES (1, 1, 9.99); ' +
        'CREATE TABLE scratch2 (a int); SELECT 42',
      tls,
    );
    expect(out.code).not.toBe(0);
    expect(out.stderr).toMatch(/permission denied by policy/);
    expect(out.stdout).not.toContain('42');
    expect(await count()).toBe(before);
    const table = await run(
      'psql',
      ['-X', '-At', '-c', "SELECT to_regclass('public.scratch2') IS NULL"],
      superuserEnv(demo),
    );
    expect(table.stdout.trim()).toBe('t');
  });
});

describe('psql TLS verification', () => {
  it('refuses to trust the gateway without its CA under verify-full', async () => {
    const env = { ...(await demo.env('etl', true)), PGSSLROOTCERT: '/dev/null' };
    const out = await run('psql', ['-X', '-At', '-c', 'SELECT 1'], env);
    expect(out.code).not.toBe(0);
    expect(out.stderr).toMatch(/certificate|SSL/i);
  });

  it('lets the CI job insert where the policy allows writes', async () => {
    const out = await psql(
      'etl',
      'INSERT INTO transactions (card_id, merchant_id, amount) VALUES (2, 1, 1.50)',
      true,
    );
    expect(out.stderr).toBe('');
    expect(out.stdout.trim()).toBe('INSERT 0 1');
  });
});
