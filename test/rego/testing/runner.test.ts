import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runRegoTests } from '../../../src/rego/testing/command.js';
import type { TestToolchain } from '../../../src/rego/testing/runner.js';
import { loadToolchain } from '../../../src/rego/testing/toolchain.js';

let dir: string;
let tools: TestToolchain;

beforeAll(async () => {
  tools = await loadToolchain('json');
  dir = await mkdtemp(path.join(tmpdir(), 'pgwarden-test-'));
  await mkdir(path.join(dir, 'roles'));
  await writeFile(
    path.join(dir, 'policy.rego'),
    [
      'package authz',
      '',
      'default allow := false',
      '',
      'allow if {',
      '  some role in data.roles.users[input.user]',
      '  role == "admin"',
      '}',
      '',
    ].join('\n'),
  );
  await writeFile(
    path.join(dir, 'policy_test.rego'),
    [
      'package authz_test',
      '',
      'import data.authz',
      '',
      'test_admin_allowed if {',
      '  print("checking alice")',
      '  authz.allow with input as {"user": "alice"}',
      '}',
      '',
      'test_guest_denied if not authz.allow with input as {"user": "bob"}',
      '',
      'test_fails if authz.allow with input as {"user": "bob"}',
      '',
      'test_conflict := x if { some x in [1, 2] }',
      '',
      'todo_later if false',
      '',
    ].join('\n'),
  );
  await writeFile(
    path.join(dir, 'roles', 'data.json'),
    JSON.stringify({ users: { alice: ['admin'], bob: ['viewer'] } }),
  );
});

describe('pgwarden test', () => {
  it('runs every test_ rule on the compiled Wasm with data mounted by folder', async () => {
    const { output, exitCode } = await runRegoTests(
      [dir],
      { format: 'json', verbose: false, v0Compatible: false },
      tools,
    );
    expect(exitCode, output).not.toBe(1);
    const rows = JSON.parse(output) as Array<{
      name: string;
      status: string;
      output?: string[];
      package: string;
    }>;
    const by = Object.fromEntries(rows.map((r) => [r.name, r]));
    expect(by.test_admin_allowed?.status).toBe('PASS');
    expect(by.test_admin_allowed?.output).toEqual(['checking alice']);
    expect(by.test_admin_allowed?.package).toBe('data.authz_test');
    expect(by.test_guest_denied?.status).toBe('PASS');
    expect(by.test_fails?.status).toBe('FAIL');
    expect(by.test_conflict?.status).toBe('ERROR');
    expect(by.todo_later?.status).toBe('SKIP');
    expect(exitCode).toBe(2);
  });

  it('filters with --run and exits 0 when all selected tests pass', async () => {
    const { output, exitCode } = await runRegoTests(
      [dir],
      { format: 'pretty', verbose: true, v0Compatible: false, run: 'test_(admin|guest)' },
      tools,
    );
    expect(exitCode, output).not.toBe(1);
    expect(output).toMatch(/data\.authz_test\.test_admin_allowed: PASS \(\d+(\.\d+)?(µs|ms)\)/);
    expect(output).toContain('  checking alice');
    expect(output).not.toContain('test_fails');
    expect(output.trimEnd().split('\n').at(-1)).toBe('PASS: 2/2');
    expect(exitCode).toBe(0);
  });

  it('reads Rego v0 tests with --v0-compatible', async () => {
    const v0 = await mkdtemp(path.join(tmpdir(), 'pgwarden-test-v0-'));
    await writeFile(
      path.join(v0, 'old_test.rego'),
      'package old\n\nallow { input.x == 1 }\n\ntest_allow { allow with input as {"x": 1} }\n',
    );
    const opts = { format: 'json' as const, verbose: false, v0Compatible: true };
    const { output, exitCode } = await runRegoTests([v0], opts, tools);
    expect(exitCode, output).toBe(0);
    expect(JSON.parse(output)).toMatchObject([{ name: 'test_allow', status: 'PASS' }]);
    const strict = await runRegoTests([v0], { ...opts, v0Compatible: false }, tools);
    expect(strict.exitCode).toBe(1);
  });

  it('reports compile errors with positions and exit code 1', async () => {
    const bad = await mkdtemp(path.join(tmpdir(), 'pgwarden-test-bad-'));
    await writeFile(path.join(bad, 'x_test.rego'), 'package x\n\ntest_y if {\n  z == 1\n}\n');
    const { output, exitCode } = await runRegoTests(
      [bad],
      { format: 'pretty', verbose: false, v0Compatible: false },
      tools,
    );
    expect(exitCode).toBe(1);
    expect(output).toMatch(/x_test\.rego:4:\d+: rego_unsafe_var_error/);
  });

  it('fails on a recursive module that has no tests instead of printing "no tests found"', async () => {
    const rec = await mkdtemp(path.join(tmpdir(), 'pgwarden-test-rec-'));
    await writeFile(path.join(rec, 'r.rego'), 'package r\n\na if b\n\nb if a\n');
    const opts = { format: 'pretty' as const, verbose: false, v0Compatible: false };
    const { output, exitCode } = await runRegoTests([rec], opts, tools);
    expect(exitCode, output).toBe(1);
    expect(output).toMatch(/r\.rego:3:1: rego_recursion_error: rule data\.r\.a is recursive/);
    expect(output).not.toContain('no tests found');
  });

  it('reports compile errors of modules whose tests --run leaves out', async () => {
    const mixed = await mkdtemp(path.join(tmpdir(), 'pgwarden-test-run-'));
    await writeFile(
      path.join(mixed, 'm_test.rego'),
      'package m\n\np if {\n  q == 1\n}\n\ntest_ok if true\n',
    );
    const opts = { format: 'json' as const, verbose: false, v0Compatible: false };
    const { output, exitCode } = await runRegoTests([mixed], { ...opts, run: 'nomatch' }, tools);
    expect(exitCode, output).toBe(1);
    expect(output).toContain('rego_unsafe_var_error');
  });

  it('still reports "no tests found" with exit 0 for a clean module without tests', async () => {
    const clean = await mkdtemp(path.join(tmpdir(), 'pgwarden-test-clean-'));
    await writeFile(path.join(clean, 'c.rego'), 'package c\n\nallow if input.x == 1\n');
    const opts = { format: 'pretty' as const, verbose: false, v0Compatible: false };
    const { output, exitCode } = await runRegoTests([clean], opts, tools);
    expect(exitCode, output).toBe(0);
    expect(output.trimEnd().split('\n').at(-1)).toBe('no tests found');
  });
});
