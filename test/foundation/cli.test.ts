import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/index.js';

const root = path.resolve(import.meta.dirname, '../..');
const dir = mkdtempSync(path.join(os.tmpdir(), 'pgw-cli-'));
const SUBCOMMANDS = ['serve', 'demo', 'build', 'test', 'eval', 'analyze', 'audit'];

/** Runs the CLI in-process and returns its exit code and output. */
async function run(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(['node', 'pgwarden', ...args], {
    writeOut: (text) => (out += text),
    writeErr: (text) => (err += text),
  });
  return { code, out, err };
}

function file(name: string, text: string): string {
  const p = path.join(dir, name);
  writeFileSync(p, text);
  return p;
}

afterEach(() => {
  process.exitCode = undefined;
});

describe('pgwarden CLI', () => {
  it('lists every subcommand in --help and exits 0', async () => {
    const { code, out } = await run('--help');
    expect(code).toBe(0);
    for (const name of SUBCOMMANDS) expect(out).toMatch(new RegExp(`^\\s+${name}\\b`, 'm'));
  });

  it('has --help on every subcommand', async () => {
    for (const name of SUBCOMMANDS) {
      const { code, out } = await run(name, '--help');
      expect(code, name).toBe(0);
      expect(out, name).toContain(`Usage: pgwarden ${name}`);
    }
  });

  it('refuses misuse of every subcommand with one line', async () => {
    for (const name of SUBCOMMANDS) {
      const { code, err } = await run(name, '--no-such-option');
      expect(code, name).toBe(1);
      expect(err.trimEnd().split('\n'), name).toHaveLength(1);
      // A missing required option may be reported first; either way it is one line.
      expect(err, name).toMatch(/^pgwarden: (unknown option '--no-such-option'|required option)/);
    }
  });

  it.each([
    [['frobnicate'], "unknown command 'frobnicate'"],
    [['serve'], "required option '-c, --config <file>' not specified"],
    [['serve', '--config'], "option '-c, --config <file>' argument missing"],
    [['serve', '--config', 'x.yaml', '--colour'], "unknown option '--colour'"],
    [['serve', '--config', 'x.yaml', 'extra'], 'too many arguments'],
    [[], 'missing command'],
    // Commander would print the whole help on stderr for these two.
    [['audit'], "missing or unknown subcommand of 'pgwarden audit'"],
    [['help', 'frobnicate'], "missing or unknown subcommand of 'pgwarden'"],
    // Found by the action, not by commander's parser: it used to exit 1 printing nothing.
    [['audit', 'verify'], 'give PATH or --dsn-env'],
    [['audit', 'verify', '--dsn-env', 'PGW_T_UNSET_DSN'], 'PGW_T_UNSET_DSN is not set'],
  ])('refuses misuse %j with one line and exit code 1', async (args, reason) => {
    const { code, err, out } = await run(...args);
    expect(code).toBe(1);
    expect(out).toBe('');
    expect(err.trimEnd().split('\n')).toHaveLength(1);
    expect(err).toContain(reason);
    expect(err).toMatch(/^pgwarden: /);
  });

  it('serve --config with a wrong type prints the path of the field and exits 1', async () => {
    const bad = file('bad.yaml', 'upstream:\n  user: gw\n  port: "5432"\nlisten:\n  prot: 1\n');
    const { code, err } = await run('serve', '--config', bad);
    expect(code).toBe(1);
    expect(err.split('\n')).toEqual([
      `pgwarden: ${bad}: 2 problems (ERR_CONFIG_INVALID)`,
      'listen.prot: unknown option',
      'upstream.port: expected a number, got a string',
      '',
    ]);
  });

  it('serve --check validates secrets without printing them', async () => {
    const good = file(
      'good.yaml',
      'listen: { allow_plaintext_loopback: true }\n' +
        'upstream: { user: gw, password_env: PGW_T_PW }\n',
    );
    delete process.env.PGW_T_PW;
    const missing = await run('serve', '--config', good, '--check');
    expect(missing.code).toBe(1);
    expect(missing.err).toContain('upstream.password: environment variable PGW_T_PW is not set');
    expect(missing.err).toContain('ERR_CONFIG_SECRET');

    process.env.PGW_T_PW = 'very-secret-upstream-pw';
    try {
      const ok = await run('serve', '--config', good, '--check');
      expect(ok).toEqual({ code: 0, out: `${good}: configuration is valid\n`, err: '' });
      // Nothing listens on the upstream port: start-up stops with a clear reason.
      const serve = await run('serve', '--config', good);
      expect(serve.code).toBe(1);
      expect(serve.err).toMatch(/upstream .* unreachable.*ERR_UPSTREAM/);
      expect(serve.err + serve.out).not.toContain('very-secret-upstream-pw');
    } finally {
      delete process.env.PGW_T_PW;
    }
  });

  it('prints the version', async () => {
    const { code, out } = await run('--version');
    expect(code).toBe(0);
    expect(out.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });

  const built = existsSync(path.join(root, 'dist/cli/index.js'));
  it.skipIf(!built)('runs as the installed bin (skipped when dist/ is not built)', async () => {
    const bad = file('bin-bad.yaml', 'upstream: { user: gw, port: x }\n');
    const bin = path.join(root, 'bin/pgwarden.js');
    const help = await promisify(execFile)(process.execPath, [bin, '--help']);
    for (const name of SUBCOMMANDS) expect(help.stdout).toContain(name);
    const failed = await promisify(execFile)(process.execPath, [bin, 'serve', '--config', bad])
      .then(() => undefined)
      .catch((err: { code: number; stderr: string }) => err);
    expect(failed?.code).toBe(1);
    expect(failed?.stderr).toContain('upstream.port: expected a number, got a string');
  });
});
