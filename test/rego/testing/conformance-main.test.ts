import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../../src/rego/conformance/main.js';

let root: string;

beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'pgwarden-conformance-'));
  await mkdir(path.join(root, 'opa', 'mini'), { recursive: true });
  await mkdir(path.join(root, 'regorus', 'sets'), { recursive: true });
  await writeFile(
    path.join(root, 'opa', 'mini', 'cases.yaml'),
    [
      'cases:',
      '  - note: mini/big number from data',
      '    query: data.test.p = x',
      '    modules:',
      '      - |',
      '        package test',
      '        p := data.n + 0',
      '    data: {n: 12345678901234567890123}',
      '    want_result:',
      '      - x: 12345678901234567890123',
      '  - note: mini/deliberately wrong expectation',
      '    query: data.test.p = x',
      '    modules: ["package test\\np := 1\\n"]',
      '    want_result: [{x: 2}]',
      '  - note: mini/input term with a set',
      '    query: data.test.p = x',
      '    modules: ["package test\\np := count(input.s)\\n"]',
      '    input_term: \'{"s": {1, 2, 2}}\'',
      '    want_result: [{x: 2}]',
    ].join('\n'),
  );
  await writeFile(
    path.join(root, 'regorus', 'sets', 'v0.yaml'),
    [
      'cases:',
      '  - note: v0 partial set',
      '    data: {}',
      '    modules:',
      '      - |',
      '        package test',
      '        s[x] { x := [3, 1][_] }',
      '    query: data.test',
      '    want_result:',
      '      s:',
      '        set!: [1, 3]',
    ].join('\n'),
  );
});

function io() {
  const out = { stdout: '', stderr: '' };
  return {
    out,
    io: {
      stdout: { write: (s: string) => (out.stdout += s) },
      stderr: { write: (s: string) => (out.stderr += s) },
    },
  };
}

describe('npm run conformance (in-process, real compiler)', () => {
  it('runs both schemas end to end and reports honestly', async () => {
    const { out, io: sink } = io();
    const code = await main([root, '--workers', '0', '--json'], sink);
    const report = JSON.parse(out.stdout) as {
      passed: number;
      failed: number;
      cases: Array<{ id: string; status: string; reason?: string }>;
    };
    const failed = report.cases.filter((c) => c.status === 'fail');
    expect(failed.map((c) => c.id)).toEqual(['opa/mini/cases.yaml#1']);
    expect(report.passed).toBe(3);
    expect(code).toBe(0);
  });

  it('prints the table and closing line, and fails below --min-pass-rate', async () => {
    const { out, io: sink } = io();
    const code = await main([root, '--workers', '0', '--min-pass-rate', '0.9'], sink);
    expect(out.stdout).toMatch(/opa\/mini\s+2\s+1\s+0\s+3\s+66\.7%/);
    expect(out.stdout.trimEnd().split('\n').at(-1)).toBe('3 passed, 1 failed, 0 skipped');
    expect(code).toBe(1);
  });

  it('rejects misuse with exit code 2', async () => {
    const { out, io: sink } = io();
    expect(await main([], sink)).toBe(2);
    expect(out.stderr).toContain('usage:');
  });
});
