// Helpers for the policy tests: small policies built into real bundles with the project's own
// compiler, temporary folders, keys, and repacking bundles after changing a file.
import { generateKeyPairSync } from 'node:crypto';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { create as createTar } from 'tar';
import { afterAll } from 'vitest';
import { unpackBundle, type BundleFiles, type PolicyInput } from '../../src/policy/index.js';
import { buildBundle, type BuildBundleOptions } from '../../src/rego/index.js';

const made: string[] = [];
afterAll(async () => {
  await Promise.all(made.map((d) => rm(d, { recursive: true, force: true })));
});

/** A temporary folder removed after the test file. */
export async function tempDir(prefix = 'pgw-policy-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  made.push(dir);
  return dir;
}

/**
 * A policy whose decision says which bundle made it: `reasons` holds `data.marker.name`, and
 * `allow` and the mask follow `data.marker`.
 */
export const MARKER_POLICY = `package pgwarden

import rego.v1

decision := {
	"allow": data.marker.allow,
	"reasons": [data.marker.name],
	"mask": {c: "redact" | some c in data.marker.masked},
	"approval": approval,
}

approval := {"reason": "bulk", "approvers": ["approvers"]} if data.marker.hold
else := null
`;

/** Writes a policy folder (`policy.rego` and `data.json`) and returns its path. */
export async function policyDir(
  marker: { name: string; allow?: boolean; masked?: string[]; hold?: boolean },
  rego = MARKER_POLICY,
): Promise<string> {
  const dir = await tempDir('pgw-rego-');
  await writePolicy(dir, marker, rego);
  return dir;
}

/** (Re)writes the policy folder's files. */
export async function writePolicy(
  dir: string,
  marker: { name: string; allow?: boolean; masked?: string[]; hold?: boolean },
  rego = MARKER_POLICY,
): Promise<void> {
  const data = { marker: { allow: true, masked: [], hold: false, ...marker } };
  await writeFile(join(dir, 'policy.rego'), rego);
  await writeFile(join(dir, 'data.json'), JSON.stringify(data));
}

/** Builds a bundle with the marker policy. */
export async function markerBundle(
  marker: { name: string; allow?: boolean; masked?: string[]; hold?: boolean },
  options: Partial<BuildBundleOptions> = {},
): Promise<Buffer> {
  const dir = await policyDir(marker);
  return buildBundle({
    paths: [dir],
    entrypoints: ['pgwarden/decision'],
    revision: marker.name,
    ...options,
  });
}

/** Repacks bundle files into a .tar.gz with the `tar` package (paths with a leading slash). */
export async function repack(files: BundleFiles): Promise<Buffer> {
  const dir = await tempDir('pgw-repack-');
  const root = join(dir, 'b');
  for (const [name, data] of files) {
    await mkdir(dirname(join(root, name)), { recursive: true });
    await writeFile(join(root, name), data);
  }
  const names = (await readdir(root, { recursive: true, withFileTypes: true }))
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name).slice(root.length + 1));
  const out = join(dir, 'bundle.tar.gz');
  await createTar({ gzip: true, cwd: root, file: out, portable: true }, names);
  const { readFile } = await import('node:fs/promises');
  return readFile(out);
}

/** Unpacks, changes files, repacks. */
export async function alter(
  archive: Buffer,
  change: (files: BundleFiles) => void,
): Promise<Buffer> {
  const files = await unpackBundle(archive);
  change(files);
  return repack(files);
}

/** PEM key pairs written to files, for signing and verification. */
export async function keyFiles(kind: 'rsa' | 'ec' | 'ed25519' | 'rsa-pss' = 'rsa') {
  const dir = await tempDir('pgw-keys-');
  const pair =
    kind === 'ec'
      ? generateKeyPairSync('ec', { namedCurve: 'prime256v1' })
      : kind === 'ed25519'
        ? generateKeyPairSync('ed25519')
        : generateKeyPairSync('rsa', { modulusLength: 2048 });
  const privateFile = join(dir, 'private.pem');
  const publicFile = join(dir, 'public.pem');
  await writeFile(privateFile, pair.privateKey.export({ type: 'pkcs8', format: 'pem' }));
  await writeFile(publicFile, pair.publicKey.export({ type: 'spki', format: 'pem' }));
  return { privateFile, publicFile, privateKey: pair.privateKey, publicKey: pair.publicKey };
}

/** A policy input for the marker policy or the shipped one. */
export function sampleInput(overrides: Partial<PolicyInput['statement']> = {}): PolicyInput {
  return {
    identity: {
      subject: 'repo:acme/payments:ref:refs/heads/main',
      issuer: 'https://idp.example',
      groups: ['etl'],
      claims: {},
    },
    connection: {
      id: 'c-1',
      client_addr: '127.0.0.1',
      tls: true,
      database: 'payments',
      user: 'ci',
      application_name: 'test',
    },
    statement: {
      id: 's-1',
      text: 'SELECT pan FROM cards WHERE id = 1',
      fingerprint: 'f-1',
      kind: 'select',
      command_tag: 'SELECT',
      tables: [{ schema: 'public', name: 'cards', operations: ['read'] }],
      columns: { read: ['public.cards.pan'], written: [], filtered: ['public.cards.id'] },
      functions: [],
      copy: null,
      where: true,
      limit: null,
      copies_data: false,
      in_transaction: false,
      protocol: 'simple',
      ...overrides,
    },
    approval: null,
    now: '2026-01-01T00:00:00Z',
  };
}
