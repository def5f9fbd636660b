import { execFileSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bundleHash, unpackBundle } from '../../src/policy/index.js';
import { keyFiles, markerBundle, repack, tempDir } from './support.js';

/** The auditor's recipe from docs/bundles.md, run with the real tools. */
const RECIPE = [
  'set -eu',
  'mkdir unpacked',
  'tar -xzf "$BUNDLE" -C unpacked 2>/dev/null',
  'cd unpacked',
  "find . -type f ! -path ./.signatures.json -printf '%P\\n' | LC_ALL=C sort \\",
  "  | xargs -d '\\n' sha256sum | sha256sum | cut -d' ' -f1",
].join('\n');

async function recipeHash(archive: Buffer): Promise<string> {
  const dir = await tempDir('pgw-audit-');
  const file = join(dir, 'bundle.tar.gz');
  await writeFile(file, archive);
  return execFileSync('sh', ['-c', RECIPE], { cwd: dir, env: { ...process.env, BUNDLE: file } })
    .toString()
    .trim();
}

describe('bundle hash', () => {
  it('is what tar, find, sort and sha256sum compute from the bundle file', async () => {
    const keys = await keyFiles('ec');
    const archive = await markerBundle({ name: 'r1' }, { signingKey: keys.privateFile });
    const files = await unpackBundle(archive);
    expect(files.has('.signatures.json')).toBe(true);
    expect(await recipeHash(archive)).toBe(bundleHash(files));
  });

  it('does not depend on tar metadata, gzip level or the signature', async () => {
    const signed = await markerBundle(
      { name: 'r1' },
      { signingKey: (await keyFiles()).privateFile },
    );
    const files = await unpackBundle(signed);
    files.set('nested/deeper/data.json', Buffer.from('{"x": 1}'));
    files.set('a b/data.json', Buffer.from('{"y": 2}'));
    const repacked = await repack(files);
    files.delete('.signatures.json');
    const unsigned = await repack(files);
    const expected = bundleHash(files);
    expect(bundleHash(await unpackBundle(repacked))).toBe(expected);
    expect(await recipeHash(repacked)).toBe(expected);
    expect(await recipeHash(unsigned)).toBe(expected);
  });

  it('matches a bundle made with the system tar', async () => {
    const dir = await tempDir();
    const root = join(dir, 'src');
    await mkdir(join(root, 'pgwarden'), { recursive: true });
    await writeFile(join(root, '.manifest'), '{"revision":"x"}');
    await writeFile(join(root, 'pgwarden', 'data.json'), '{"k":true}');
    await writeFile(join(root, 'policy.wasm'), Buffer.from([0, 97, 115, 109]));
    execFileSync('tar', ['-czf', join(dir, 'b.tar.gz'), '-C', root, '.']);
    const { readFile } = await import('node:fs/promises');
    const archive = await readFile(join(dir, 'b.tar.gz'));
    expect(await recipeHash(archive)).toBe(bundleHash(await unpackBundle(archive)));
  });

  it('refuses archives whose members a plain extraction would place differently', async () => {
    const dir = await tempDir();
    const root = join(dir, 'src');
    await mkdir(root, { recursive: true });
    await writeFile(join(root, 'data.json'), '{}');
    execFileSync('ln', ['-s', 'data.json', join(root, 'link.json')]);
    execFileSync('tar', ['-czf', join(dir, 'b.tar.gz'), '-C', root, '.']);
    const { readFile } = await import('node:fs/promises');
    await expect(unpackBundle(await readFile(join(dir, 'b.tar.gz')))).rejects.toMatchObject({
      code: 'ERR_BUNDLE_INVALID',
      message: expect.stringMatching(/SymbolicLink, not a regular file/),
    });
  });
});
