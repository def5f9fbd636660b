// Proves the client suite's tools (installed from Debian by .ci/run) reach the run's PostgreSQL.
// These talk to PostgreSQL directly; the gateway's own client tests sit beside this file.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { chromium } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { createDatabase, libpqEnv } from '../support/pg.js';

const exec = promisify(execFile);

describe('client tools against PostgreSQL', () => {
  it('psql runs a script and returns its rows', async () => {
    const db = await createDatabase('psql');
    const script = [
      'CREATE TABLE t (id int PRIMARY KEY, name text);',
      "INSERT INTO t VALUES (1, 'a'), (2, 'b');",
      'SELECT id, name FROM t ORDER BY id;',
    ].join('\n');
    const { stdout } = await exec(
      'psql',
      ['-X', '-q', '-At', '-v', 'ON_ERROR_STOP=1', '-c', script],
      {
        env: libpqEnv({ database: db }),
      },
    );
    expect(stdout.trim().split('\n')).toEqual(['1|a', '2|b']);
  });

  it('psql exits non-zero on an SQL error', async () => {
    const failed = await exec('psql', ['-X', '-At', '-v', 'ON_ERROR_STOP=1', '-c', 'SELECT nope'], {
      env: libpqEnv(),
    }).catch((err: { code: number; stderr: string }) => err);
    expect(failed).toMatchObject({ code: 1 });
    expect((failed as { stderr: string }).stderr).toContain('column "nope" does not exist');
  });

  it('psycopg2 from Debian connects with parameters and reads typed rows', async () => {
    const program = [
      'import os, psycopg2',
      'conn = psycopg2.connect("")',
      'cur = conn.cursor()',
      'cur.execute("SELECT %s::int + 1, %s::text", (41, "x"))',
      'print(repr(cur.fetchone()))',
      'conn.close()',
    ].join('\n');
    const { stdout } = await exec('/usr/bin/python3', ['-c', program], {
      env: libpqEnv(),
    });
    expect(stdout.trim()).toBe("(42, 'x')");
  });

  it('pgbench initialises and runs select-only transactions', async () => {
    const db = await createDatabase('pgbench');
    const env = libpqEnv({ database: db });
    await exec('pgbench', ['-i', '-s', '1', '-q'], { env });
    const { stdout } = await exec('pgbench', ['-S', '-t', '50', '-c', '2', '-M', 'prepared'], {
      env,
    });
    expect(stdout).toMatch(/number of transactions actually processed: 100\/100/);
  });

  it('headless chromium renders a page through playwright-core', async () => {
    const browser = await chromium.launch({
      executablePath: process.env.PGWARDEN_CHROMIUM ?? '/usr/bin/chromium',
      args: ['--no-sandbox'],
    });
    try {
      const page = await browser.newPage();
      await page.setContent('<title>pgwarden</title><p id="x">2 + 2 = <b>4</b></p>');
      expect(await page.title()).toBe('pgwarden');
      expect(await page.textContent('#x')).toBe('2 + 2 = 4');
    } finally {
      await browser.close();
    }
  });
});
