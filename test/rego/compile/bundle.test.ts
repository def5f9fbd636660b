import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { compactVerify } from 'jose';
import { describe, expect, it } from 'vitest';
import { bundleFileHash } from '../../../src/rego/bundle-sign.js';
import { buildBundle } from '../../../src/rego/bundle.js';
import { RegoCompileError } from '../../../src/rego/compile.js';
import { loadCompiledPolicy } from '../../../src/rego/load.js';

/** Reads a ustar archive into name -> bytes (enough for the bundles built here). */
function untar(gz: Buffer): Map<string, Buffer> {
  const tar = gunzipSync(gz);
  const files = new Map<string, Buffer>();
  for (let off = 0; off + 512 <= tar.length;) {
    const header = tar.subarray(off, off + 512);
    if (header.every((b) => b === 0)) break;
    const name = header.subarray(0, 100).toString('utf8').replace(/\0.*$/s, '');
    const size = parseInt(header.subarray(124, 136).toString('ascii').replace(/\0.*$/s, ''), 8);
    files.set(name, tar.subarray(off + 512, off + 512 + size));
    off += 512 + Math.ceil(size / 512) * 512;
  }
  return files;
}

function project(): string {
  const dir = mkdtempSync(join(tmpdir(), 'pgwarden-bundle-'));
  mkdirSync(join(dir, 'authz', 'roles'), { recursive: true });
  writeFileSync(
    join(dir, 'authz', 'policy.rego'),
    `package authz
import rego.v1
default allow := false
allow if input.role in data.authz.roles.admins
`,
  );
  writeFileSync(join(dir, 'authz', 'roles', 'data.json'), JSON.stringify({ admins: ['root'] }));
  writeFileSync(join(dir, 'authz', 'data.yaml'), 'level: 3\n');
  return dir;
}

describe('buildBundle', () => {
  it('writes manifest, merged data and a policy that evaluates', async () => {
    const dir = project();
    const bundle = await buildBundle({
      paths: [dir],
      entrypoints: ['authz/allow'],
      revision: 'r1',
    });
    const files = untar(bundle);
    expect([...files.keys()]).toEqual(['/.manifest', '/data.json', '/policy.wasm']);
    expect(JSON.parse(files.get('/.manifest')!.toString())).toEqual({
      revision: 'r1',
      roots: ['authz'],
      wasm: [{ entrypoint: 'authz/allow', module: '/policy.wasm' }],
    });
    const data = JSON.parse(files.get('/data.json')!.toString()) as unknown;
    expect(data).toEqual({ authz: { level: 3, roles: { admins: ['root'] } } });
    const policy = await loadCompiledPolicy(files.get('/policy.wasm')!, data);
    expect(policy.evaluate({ role: 'root' }, 'authz/allow')).toEqual([{ result: true }]);
    expect(policy.evaluate({ role: 'guest' }, 'authz/allow')).toEqual([{ result: false }]);
    // Deterministic: the same inputs give the same bytes (the bundle hash names the policy).
    expect(
      await buildBundle({ paths: [dir], entrypoints: ['authz/allow'], revision: 'r1' }),
    ).toEqual(bundle);
  });

  it('signs every file as OPA does when given a key', async () => {
    const dir = project();
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const keyFile = join(dir, 'key.pem');
    writeFileSync(keyFile, privateKey.export({ type: 'pkcs8', format: 'pem' }));
    const bundle = await buildBundle({
      paths: [join(dir, 'authz')],
      entrypoints: ['authz/allow'],
      signingKey: keyFile,
    });
    const files = untar(bundle);
    const sigs = JSON.parse(files.get('/.signatures.json')!.toString()) as { signatures: string[] };
    expect(sigs.signatures).toHaveLength(1);
    const { payload, protectedHeader } = await compactVerify(sigs.signatures[0]!, publicKey);
    expect(protectedHeader.alg).toBe('RS256');
    const listed = (
      JSON.parse(new TextDecoder().decode(payload)) as {
        files: Array<{ name: string; hash: string; algorithm: string }>;
      }
    ).files;
    expect(listed.map((f) => f.name)).toEqual(['.manifest', 'data.json', 'policy.wasm']);
    for (const f of listed) {
      expect(f.algorithm).toBe('SHA-256');
      expect(f.hash).toBe(bundleFileHash(f.name, files.get(`/${f.name}`)!));
    }
  });

  it('reports every compile error with its position', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pgwarden-bundle-'));
    writeFileSync(join(dir, 'a.rego'), 'package a\nimport rego.v1\np if { x := 1 +\n');
    writeFileSync(join(dir, 'b.rego'), 'package b\nimport rego.v1\nq if nope.call(1)\n');
    const err = await buildBundle({ paths: [dir], entrypoints: ['a/p'] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RegoCompileError);
    const files = (err as RegoCompileError).diagnostics.map((d) => d.file.split('/').pop());
    expect(files).toContain('a.rego');
  });

  it("refuses an entrypoint no rule answers (the gateway's `dir` source builds this way)", async () => {
    const dir = project();
    const err = await buildBundle({
      paths: [dir],
      entrypoints: ['authz/allow', 'authz/nosuch'],
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RegoCompileError);
    expect((err as RegoCompileError).message).toContain(
      'rego_compile_error: entrypoint "authz/nosuch" does not refer to a rule or policy decision',
    );
    expect((err as RegoCompileError).diagnostics).toHaveLength(1);
  });

  it('builds the shipped policy in rego/ quickly', async () => {
    const started = performance.now();
    const bundle = await buildBundle({ paths: ['rego'], entrypoints: ['pgwarden/decision'] });
    expect(performance.now() - started).toBeLessThan(1000);
    const files = untar(bundle);
    const policy = await loadCompiledPolicy(
      files.get('/policy.wasm')!,
      JSON.parse(files.get('/data.json')!.toString()),
    );
    const rs = policy.evaluate(
      { identity: { groups: [] }, statement: { kind: 'select', tables: [] } },
      'pgwarden/decision',
    ) as Array<{ result: { allow: boolean } }>;
    expect(rs[0]?.result.allow).toBe(false);
  });
});
