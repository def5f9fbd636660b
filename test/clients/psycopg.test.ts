// psycopg2 (Debian's python3-psycopg2, libpq underneath) through the gateway with a token.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run, startDemoProcess, type DemoProcess } from './support/demo.js';

const PYTHON = process.env.PGWARDEN_PYTHON ?? '/usr/bin/python3';

let demo: DemoProcess;

beforeAll(async () => {
  demo = await startDemoProcess();
});

afterAll(async () => {
  await demo?.stop();
});

/** Runs a Python program connected as `name`; it prints one JSON line per result. */
async function python(name: string, body: string[], tls = true) {
  const program = [
    'import json, psycopg2',
    'conn = psycopg2.connect("")',
    'cur = conn.cursor()',
    ...body,
    'conn.close()',
  ].join('\n');
  return run(PYTHON, ['-c', program], await demo.env(name, tls));
}

describe('psycopg2 through the gateway', () => {
  it('runs a simple query and sees card numbers masked', async () => {
    const out = await python('etl', [
      'cur.execute("SELECT id, pan FROM cards WHERE id <= 2 ORDER BY id")',
      'print(json.dumps(cur.fetchall()))',
    ]);
    expect(out.stderr).toBe('');
    expect(JSON.parse(out.stdout)).toEqual([
      [1, '************1111'],
      [2, '************4444'],
    ]);
  });

  it('binds parameters (client-side interpolation) and reads typed values', async () => {
    const out = await python(
      'analyst',
      [
        'cur.execute("SELECT %s::int + 1, %s::text, brand FROM cards WHERE id = %s", (41, "x", 3))',
        'print(json.dumps(cur.fetchone()))',
        'cur.execute("SELECT count(*) FROM merchants WHERE city = %(city)s", {"city": "Oslo"})',
        'print(json.dumps(cur.fetchone()))',
      ],
      false,
    );
    expect(out.stderr).toBe('');
    expect(
      out.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l)),
    ).toEqual([[42, 'x', 'amex'], [1]]);
  });

  it('gets a refusal as a Python exception with SQLSTATE 42501, and the session goes on', async () => {
    const out = await python('etl', [
      'try:',
      '    cur.execute("DROP TABLE merchants")',
      '    print(json.dumps({"ran": True}))',
      'except psycopg2.Error as e:',
      '    print(json.dumps({"pgcode": e.pgcode, "message": e.pgerror}))',
      '    conn.rollback()',
      'cur.execute("SELECT count(*) FROM merchants")',
      'print(json.dumps(cur.fetchone()))',
    ]);
    expect(out.stderr).toBe('');
    const [refusal, after] = out.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as unknown);
    expect(refusal).toMatchObject({ pgcode: '42501' });
    expect((refusal as { message: string }).message).toMatch(/DDL \(drop\w*\)/);
    expect((refusal as { message: string }).message).toMatch(/decision d-/);
    expect(after).toEqual([4]);
  });
});
