import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { main } from '../../../src/cli/index.js';

describe('pgwarden build', () => {
  it('writes a bundle and exits 0', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pgwarden-cli-'));
    writeFileSync(join(dir, 'p.rego'), 'package p\nimport rego.v1\nallow := true\n');
    const out = join(dir, 'bundle.tar.gz');
    const write = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    try {
      const code = await main([
        'node',
        'pgwarden',
        'build',
        dir,
        '-o',
        out,
        '-e',
        'p/allow',
        '--revision',
        'v1',
      ]);
      expect(code).toBe(0);
    } finally {
      write.mockRestore();
    }
    expect(existsSync(out)).toBe(true);
  });

  it('prints diagnostics as file:line:col and exits 1 on compile errors', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pgwarden-cli-'));
    writeFileSync(join(dir, 'p.rego'), 'package p\nimport rego.v1\nallow if {\n');
    const lines: string[] = [];
    const err = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
      lines.push(String(chunk));
      return true;
    });
    let code: number;
    try {
      code = await main([
        'node',
        'pgwarden',
        'build',
        dir,
        '-o',
        join(dir, 'b.tgz'),
        '-e',
        'p/allow',
      ]);
    } finally {
      err.mockRestore();
      process.exitCode = undefined;
    }
    expect(code).toBe(1);
    expect(lines.join('')).toMatch(/p\.rego:\d+:\d+: rego_parse_error/);
  });

  it('refuses an entrypoint that names no rule or package, and writes no bundle', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pgwarden-cli-'));
    writeFileSync(join(dir, 't.rego'), 'package t\n\nallow if input.x == 1\n');
    writeFileSync(join(dir, 'data.json'), '{"base": {"k": 1}}');
    const out = join(dir, 'b.tgz');
    const build = async (entrypoint: string): Promise<{ code: number; text: string }> => {
      const lines: string[] = [];
      const capture = (chunk: unknown): boolean => {
        lines.push(String(chunk));
        return true;
      };
      const err = vi.spyOn(process.stderr, 'write').mockImplementation(capture);
      const std = vi.spyOn(process.stdout, 'write').mockImplementation(capture);
      try {
        const code = await main(['node', 'pgwarden', 'build', dir, '-o', out, '-e', entrypoint]);
        return { code, text: lines.join('') };
      } finally {
        err.mockRestore();
        std.mockRestore();
        process.exitCode = undefined;
      }
    };
    // `base` is only data: OPA wants a rule there too.
    for (const entrypoint of ['t/nosuch', 'nosuch', 'base']) {
      const { code, text } = await build(entrypoint);
      expect(code, text).toBe(1);
      expect(text).toBe(
        `rego_compile_error: entrypoint "${entrypoint}" does not refer to a rule or policy decision\n`,
      );
      expect(existsSync(out)).toBe(false);
    }
    // A package path and a path into a rule's value are entrypoints OPA accepts.
    for (const entrypoint of ['t', 't/allow', 't/allow/x']) {
      const { code, text } = await build(entrypoint);
      expect(code, text).toBe(0);
    }
  });
});
