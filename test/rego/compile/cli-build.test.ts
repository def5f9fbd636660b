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
});
