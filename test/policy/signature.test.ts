import { createHash, randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CompactSign } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  createBundleVerifier,
  signatureFileHash,
  unpackBundle,
  type BundleFiles,
  type SignatureOptions,
} from '../../src/policy/index.js';
import { alter, keyFiles, markerBundle, tempDir } from './support.js';

type Keys = Awaited<ReturnType<typeof keyFiles>>;

/** Verifies an archive with the given options; resolves to the result or the error's code. */
async function verify(archive: Buffer, options: Partial<SignatureOptions> & { key?: Buffer }) {
  const verifier = createBundleVerifier({ required: true, alg: 'RS256', ...options });
  try {
    return await verifier(await unpackBundle(archive));
  } catch (err) {
    return { code: (err as { code?: string }).code, message: (err as Error).message };
  }
}

/** Signs files the way OPA does, with claims of our choosing (scope, keyid, extra files). */
async function signAs(
  files: BundleFiles,
  key: Parameters<CompactSign['sign']>[0],
  alg: string,
  claims: Record<string, unknown> = {},
  header: Record<string, unknown> = {},
): Promise<void> {
  const list = [...files.keys()]
    .filter((n) => n !== '.signatures.json')
    .map((name) => ({
      name,
      hash: signatureFileHash(name, files.get(name)!),
      algorithm: 'SHA-256',
    }));
  const payload = new TextEncoder().encode(JSON.stringify({ files: list, ...claims }));
  const jws = await new CompactSign(payload).setProtectedHeader({ alg, ...header }).sign(key);
  files.set('.signatures.json', Buffer.from(JSON.stringify({ signatures: [jws] })));
}

describe('bundle signatures', () => {
  let rsa: Keys;
  let signed: Buffer;
  let unsigned: Buffer;

  beforeAll(async () => {
    rsa = await keyFiles('rsa');
    unsigned = await markerBundle({ name: 'r1' });
    signed = await markerBundle({ name: 'r1' }, { signingKey: rsa.privateFile, keyId: 'ci' });
  });

  it('accepts a bundle signed by pgwarden build (RS256)', async () => {
    const result = await verify(signed, { key: await readFile(rsa.publicFile), keyId: 'ci' });
    expect(result).toEqual({ keyId: 'ci', scope: null, files: 3 });
  });

  it('accepts ES256 and HS256 bundles from the builder', async () => {
    const ec = await keyFiles('ec');
    const es = await markerBundle({ name: 'r1' }, { signingKey: ec.privateFile });
    expect(await verify(es, { alg: 'ES256', key: await readFile(ec.publicFile) })).toMatchObject({
      files: 3,
    });

    const secretFile = join(await tempDir(), 'hmac.key');
    await writeFile(secretFile, randomBytes(32));
    const hs = await markerBundle({ name: 'r1' }, { signingKey: secretFile });
    const secret = await readFile(secretFile);
    expect(await verify(hs, { alg: 'HS256', key: secret })).toMatchObject({ files: 3 });
    // The same bundle under another secret is refused.
    expect(await verify(hs, { alg: 'HS256', key: randomBytes(32) })).toMatchObject({
      code: 'ERR_BUNDLE_SIGNATURE',
    });
  });

  it('accepts PS256 and EdDSA signatures', async () => {
    const pss = await keyFiles('rsa');
    const ps = await alter(unsigned, () => undefined);
    const psFiles = await unpackBundle(ps);
    await signAs(psFiles, pss.privateKey, 'PS256');
    const verifierPs = createBundleVerifier({
      required: true,
      alg: 'PS256',
      key: await readFile(pss.publicFile),
    });
    await expect(verifierPs(psFiles)).resolves.toMatchObject({ files: 3 });

    const ed = await keyFiles('ed25519');
    const edFiles = await unpackBundle(unsigned);
    await signAs(edFiles, ed.privateKey, 'EdDSA');
    const verifierEd = createBundleVerifier({
      required: true,
      alg: 'EdDSA',
      key: await readFile(ed.publicFile),
    });
    await expect(verifierEd(edFiles)).resolves.toMatchObject({ files: 3 });
  });

  it('refuses an unsigned bundle when signing is required, accepts it otherwise', async () => {
    const key = await readFile(rsa.publicFile);
    expect(await verify(unsigned, { key })).toMatchObject({
      code: 'ERR_BUNDLE_SIGNATURE',
      message: expect.stringMatching(/not signed/),
    });
    expect(await verify(unsigned, { key, required: false })).toBeNull();
  });

  it('refuses a bundle whose data was altered after signing', async () => {
    const altered = await alter(signed, (files) => {
      files.set('data.json', Buffer.from('{"marker":{"name":"evil","allow":true}}'));
    });
    expect(await verify(altered, { key: await readFile(rsa.publicFile) })).toMatchObject({
      code: 'ERR_BUNDLE_SIGNATURE',
      message: expect.stringMatching(/data.json: digest mismatch/),
    });
  });

  it('accepts a JSON file reformatted without changing its meaning, as OPA does', async () => {
    const reformatted = await alter(signed, (files) => {
      const data = JSON.parse(files.get('data.json')!.toString()) as unknown;
      files.set('data.json', Buffer.from(JSON.stringify(data, null, 2)));
    });
    expect(await verify(reformatted, { key: await readFile(rsa.publicFile) })).toMatchObject({
      files: 3,
    });
  });

  it('refuses an added file, a removed file and a second signature', async () => {
    const key = await readFile(rsa.publicFile);
    const added = await alter(signed, (f) => f.set('extra/data.json', Buffer.from('{}')));
    expect(await verify(added, { key })).toMatchObject({
      message: expect.stringMatching(/extra\/data.json is not included/),
    });
    const removed = await alter(signed, (f) => f.delete('data.json'));
    expect(await verify(removed, { key })).toMatchObject({
      message: expect.stringMatching(/missing from the bundle: data.json/),
    });
    const doubled = await alter(signed, (f) => {
      const jws = (JSON.parse(f.get('.signatures.json')!.toString()) as { signatures: string[] })
        .signatures[0];
      f.set('.signatures.json', Buffer.from(JSON.stringify({ signatures: [jws, jws] })));
    });
    expect(await verify(doubled, { key })).toMatchObject({
      message: expect.stringMatching(/multiple JWTs/),
    });
  });

  it('refuses a bundle signed with another key', async () => {
    const other = await keyFiles('rsa');
    expect(await verify(signed, { key: await readFile(other.publicFile) })).toMatchObject({
      code: 'ERR_BUNDLE_SIGNATURE',
      message: expect.stringMatching(/does not verify/),
    });
  });

  it('refuses a signature made with another algorithm than configured', async () => {
    expect(
      await verify(signed, { alg: 'PS256', key: await readFile(rsa.publicFile) }),
    ).toMatchObject({ message: expect.stringMatching(/not signed with PS256/) });
  });

  it('checks the scope and the key id', async () => {
    const key = await readFile(rsa.publicFile);
    const files = await unpackBundle(unsigned);
    await signAs(files, rsa.privateKey, 'RS256', { scope: 'payments' }, { kid: 'ci' });
    const check = (options: Partial<SignatureOptions>) =>
      createBundleVerifier({ required: true, alg: 'RS256', key, ...options })(files).catch(
        (err: Error) => err.message,
      );
    await expect(check({ scope: 'payments' })).resolves.toMatchObject({ scope: 'payments' });
    await expect(check({ scope: 'billing' })).resolves.toMatch(/scope mismatch/);
    // OPA compares scopes as strings: a scoped signature needs the scope configured.
    await expect(check({})).resolves.toMatch(/scope mismatch/);
    await expect(check({ scope: 'payments', keyId: 'ci' })).resolves.toMatchObject({
      keyId: null,
    });
    await expect(check({ scope: 'payments', keyId: 'prod' })).resolves.toMatch(
      /key id ci, expected prod/,
    );
  });

  it('refuses a signed bundle when no key is configured', async () => {
    const verifier = createBundleVerifier({ required: false, alg: 'RS256' });
    await expect(verifier(await unpackBundle(signed))).rejects.toMatchObject({
      code: 'ERR_BUNDLE_SIGNATURE',
    });
    expect(() => createBundleVerifier({ required: true, alg: 'RS256' })).toThrow(/no key/);
  });
});

describe('file digests as OPA computes them', () => {
  const sha = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

  it('hashes data.json over its canonical text, keeping number literals', () => {
    const text = '{ "b": [1.0, 2e3, "x\u2028y"], "a": {"é": true, "z": null} }';
    expect(signatureFileHash('data.json', Buffer.from(text))).toBe(
      sha('{"a":{"z":null,"é":true},"b":[1.0,2e3,"x\\u2028y"]}'),
    );
  });

  it('hashes .manifest as JSON and nested data.json files too', () => {
    expect(signatureFileHash('.manifest', Buffer.from('{"revision": "r1", "roots": [""]}'))).toBe(
      sha('{"revision":"r1","roots":[""]}'),
    );
    expect(signatureFileHash('a/b/data.json', Buffer.from('{ "k": "<&>" }'))).toBe(
      sha('{"k":"<&>"}'),
    );
  });

  it('hashes other files, JSON or not, over their bytes', () => {
    const bytes = Buffer.from('{ "not": "canonicalised" }');
    expect(signatureFileHash('policy.wasm', bytes)).toBe(sha(bytes.toString()));
    expect(signatureFileHash('other.json', bytes)).toBe(sha(bytes.toString()));
  });

  it('refuses weak hashing algorithms', () => {
    expect(() => signatureFileHash('policy.wasm', Buffer.from('x'), 'MD5')).toThrow(/not accepted/);
  });
});
