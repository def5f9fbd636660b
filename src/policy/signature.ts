/**
 * Bundle signature verification as OPA defines it. `/.signatures.json` holds
 * `{"signatures": [JWT]}` with exactly one compact JWS; its payload lists every other file of
 * the bundle with a digest (`{"files": [{"name", "hash", "algorithm"}], "keyid"?, "scope"?}`).
 * Verification follows OPA's `bundle/verify.go`:
 *
 * 1. exactly one JWT, signed with the configured key and algorithm;
 * 2. the payload's `scope` equals the configured scope (both may be absent);
 * 3. every file of the bundle except `.signatures.json` is listed, with a matching digest;
 * 4. every listed file is present in the bundle.
 *
 * When a key id is configured and the token names a different one (header `kid`, or the
 * deprecated payload `keyid`), the bundle is refused: OPA would look that id up among its keys,
 * and pgwarden holds exactly one.
 */
import { createPublicKey, createSecretKey, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { compactVerify, decodeProtectedHeader, errors as joseErrors } from 'jose';
import { PgwardenError } from '../errors.js';
import type { BundleFiles } from './bundle-file.js';
import { signatureFileHash } from './signature-hash.js';

/** JWS algorithms accepted for bundle signatures. */
export const SIGNATURE_ALGORITHMS = ['RS256', 'ES256', 'HS256', 'PS256', 'EdDSA'] as const;

/** One of {@link SIGNATURE_ALGORITHMS}. */
export type SignatureAlgorithm = (typeof SIGNATURE_ALGORITHMS)[number];

/** How bundles are verified (the `policy.signing` configuration). */
export interface SignatureOptions {
  /** Refuse bundles without `.signatures.json`. Signed bundles are verified either way. */
  required: boolean;
  /** PEM public key or certificate (RS256, ES256, PS256, EdDSA), or the HMAC secret (HS256). */
  key?: string | Buffer;
  alg: SignatureAlgorithm;
  keyId?: string;
  scope?: string;
}

/** What a verified signature said, for status and the audit. */
export interface VerifiedSignature {
  keyId: string | null;
  scope: string | null;
  files: number;
}

/** Checks a bundle's files; resolves to null for an unsigned bundle that was allowed. */
export type BundleVerifier = (files: BundleFiles) => Promise<VerifiedSignature | null>;

interface FileEntry {
  name: string;
  hash: string;
  algorithm: string;
}

/** Reads a verification key file for {@link createBundleVerifier}. */
export async function readVerificationKey(path: string): Promise<Buffer> {
  return readFile(path).catch((err: unknown) => {
    throw new PgwardenError('ERR_BUNDLE_SIGNATURE', `cannot read verification key ${path}`, {
      cause: err,
    });
  });
}

/** Makes the verifier the bundle manager calls before a bundle is loaded. */
export function createBundleVerifier(options: SignatureOptions): BundleVerifier {
  if (!SIGNATURE_ALGORITHMS.includes(options.alg)) {
    throw new TypeError(`unsupported bundle signature algorithm ${String(options.alg)}`);
  }
  const key = options.key === undefined ? null : verificationKey(options.key, options.alg);
  if (options.required && !key) {
    throw new PgwardenError('ERR_BUNDLE_SIGNATURE', 'bundle signing is required but no key is set');
  }
  return async (files) => {
    const raw = files.get('.signatures.json');
    if (!raw) {
      if (options.required) refuse('bundle is not signed (no .signatures.json)');
      return null;
    }
    if (!key) refuse('bundle is signed but no verification key is configured');
    const payload = await verifyToken(onlyToken(raw), key, options);
    checkFiles(files, payload.files);
    return { keyId: payload.keyId, scope: payload.scope, files: payload.files.length };
  };
}

function verificationKey(material: string | Buffer, alg: SignatureAlgorithm): KeyObject {
  const bytes = typeof material === 'string' ? Buffer.from(material) : material;
  if (alg === 'HS256') return createSecretKey(bytes);
  try {
    // createPublicKey takes SPKI and PKCS#1 public keys, certificates, and private keys too.
    return createPublicKey(bytes.toString('utf8'));
  } catch (err) {
    throw new PgwardenError(
      'ERR_BUNDLE_SIGNATURE',
      `verification key is not a PEM key for ${alg}`,
      {
        cause: err,
      },
    );
  }
}

function onlyToken(raw: Buffer): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw.toString('utf8'));
  } catch {
    refuse('.signatures.json is not JSON');
  }
  const signatures = (parsed as { signatures?: unknown } | null)?.signatures;
  if (!Array.isArray(signatures) || signatures.length === 0) {
    refuse('.signatures.json: missing JWT (expected exactly one)');
  }
  if (signatures.length > 1) refuse('.signatures.json: multiple JWTs are not supported');
  if (typeof signatures[0] !== 'string') refuse('.signatures.json: the JWT must be a string');
  return signatures[0];
}

async function verifyToken(token: string, key: KeyObject, options: SignatureOptions) {
  let headerKid: unknown;
  try {
    headerKid = decodeProtectedHeader(token).kid;
  } catch {
    refuse('.signatures.json: the JWT is malformed');
  }
  let payloadBytes: Uint8Array;
  try {
    ({ payload: payloadBytes } = await compactVerify(token, key, { algorithms: [options.alg] }));
  } catch (err) {
    const reason =
      err instanceof joseErrors.JOSEAlgNotAllowed
        ? `the JWT is not signed with ${options.alg}`
        : 'the signature does not verify with the configured key';
    throw new PgwardenError('ERR_BUNDLE_SIGNATURE', `bundle signature refused: ${reason}`, {
      cause: err,
    });
  }
  const payload = parsePayload(payloadBytes);
  const tokenKid = typeof headerKid === 'string' && headerKid !== '' ? headerKid : payload.keyId;
  if (options.keyId && tokenKid && tokenKid !== options.keyId) {
    refuse(`signed with key id ${tokenKid}, expected ${options.keyId}`);
  }
  // OPA compares the scopes as strings; an absent scope is the empty string on both sides.
  if ((payload.scope ?? '') !== (options.scope ?? '')) refuse('scope mismatch');
  return payload;
}

function parsePayload(bytes: Uint8Array) {
  let payload: Record<string, unknown>;
  try {
    payload = JSON.parse(Buffer.from(bytes).toString('utf8')) as Record<string, unknown>;
  } catch {
    refuse('the JWT payload is not JSON');
  }
  const files = payload?.files;
  if (!Array.isArray(files)) refuse('the JWT payload has no file list');
  const entries: FileEntry[] = files.map((f: unknown) => {
    const e = f as Partial<FileEntry> | null;
    if (typeof e?.name !== 'string' || typeof e.hash !== 'string') {
      refuse('the JWT payload lists a file without name or hash');
    }
    return {
      name: e.name,
      hash: e.hash,
      algorithm: typeof e.algorithm === 'string' ? e.algorithm : '',
    };
  });
  const keyId = typeof payload.keyid === 'string' && payload.keyid !== '' ? payload.keyid : null;
  const scope = typeof payload.scope === 'string' && payload.scope !== '' ? payload.scope : null;
  return { files: entries, keyId, scope };
}

/** Steps 3 and 4: the signed list and the bundle's files must match one to one. */
function checkFiles(files: BundleFiles, listed: FileEntry[]): void {
  const expected = new Map(listed.map((f) => [f.name.replace(/^\/+/, ''), f]));
  for (const [name, data] of files) {
    if (name === '.signatures.json') continue;
    const entry = expected.get(name);
    if (!entry) refuse(`file ${name} is not included in the bundle signature`);
    if (entry.algorithm === '') refuse(`no hashing algorithm given for file ${name}`);
    const actual = signatureFileHash(name, data, entry.algorithm);
    if (actual !== entry.hash.toLowerCase()) refuse(`${name}: digest mismatch`);
    expected.delete(name);
  }
  if (expected.size > 0) {
    refuse(`signature lists files missing from the bundle: ${[...expected.keys()].join(', ')}`);
  }
}

function refuse(reason: string): never {
  throw new PgwardenError('ERR_BUNDLE_SIGNATURE', `bundle signature refused: ${reason}`);
}
