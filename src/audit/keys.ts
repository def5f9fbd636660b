/**
 * The gateway's checkpoint signing key: an Ed25519 key kept as a private JWK on disk (mode 0600),
 * its public half published as a JWKS so anyone can check checkpoints without trusting the
 * gateway. Signatures are compact JWS (RFC 7515) with `alg: EdDSA` (RFC 8037).
 */
import {
  createPrivateKey,
  createPublicKey,
  KeyObject,
  sign as signBytes,
  type webcrypto,
} from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK } from 'jose';
import { PgwardenError } from '../errors.js';

/** A JSON Web Key Set as published for verifiers. */
export interface JsonWebKeySet {
  keys: JWK[];
}

/** A loaded signing key: the private key for signing, and the public JWK with its `kid`. */
export interface SigningKey {
  privateKey: KeyObject;
  publicJwk: JWK & { kid: string; alg: 'EdDSA'; use: 'sig' };
  kid: string;
}

/** Name of the JWKS file the trail keeps in its folder. */
export const JWKS_FILE = 'jwks.json';

/** Accepts what callers may pass as a key: a private JWK, a node KeyObject or a WebCrypto key. */
export type SigningKeyInput = JWK | KeyObject | webcrypto.CryptoKey;

function toKeyObject(key: SigningKeyInput): KeyObject {
  if (key instanceof KeyObject) return key;
  if ('algorithm' in key && 'extractable' in key) return KeyObject.from(key);
  return createPrivateKey({ key: key as import('node:crypto').JsonWebKey, format: 'jwk' });
}

/** Turns a caller's key into a SigningKey; the key must be a private Ed25519 key. */
export async function toSigningKey(key: SigningKeyInput, keyId?: string): Promise<SigningKey> {
  let privateKey: KeyObject;
  try {
    privateKey = toKeyObject(key);
  } catch (err) {
    throw new TypeError('audit signing key is not a usable private key', { cause: err });
  }
  if (privateKey.type !== 'private' || privateKey.asymmetricKeyType !== 'ed25519') {
    throw new TypeError('audit signing key must be a private Ed25519 key');
  }
  const pub = createPublicKey(privateKey).export({ format: 'jwk' }) as JWK;
  const kid = keyId ?? (await calculateJwkThumbprint(pub));
  const publicJwk = {
    kty: pub.kty,
    crv: pub.crv,
    x: pub.x,
    kid,
    alg: 'EdDSA',
    use: 'sig',
  } as const;
  return { privateKey, publicJwk: publicJwk as SigningKey['publicJwk'], kid };
}

/**
 * Reads the private Ed25519 JWK at `file`, or creates one there (mode 0600, never overwriting a
 * file that appeared meanwhile). The `kid` is the key's RFC 7638 thumbprint.
 */
export async function loadOrCreateSigningKey(file: string): Promise<SigningKey> {
  let text: string | undefined;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new PgwardenError('ERR_CONFIG_SECRET', `cannot read audit signing key ${file}`, {
        cause: err,
      });
    }
  }
  if (text === undefined) {
    const pair = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
    const jwk = await exportJWK(pair.privateKey);
    await mkdir(dirname(file), { recursive: true });
    try {
      await writeFile(file, `${JSON.stringify(jwk)}\n`, { mode: 0o600, flag: 'wx' });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      // Another process created it first: use theirs, so both sign with the same key.
      return loadOrCreateSigningKey(file);
    }
    return toSigningKey(jwk);
  }
  let jwk: JWK;
  try {
    jwk = JSON.parse(text) as JWK;
  } catch (err) {
    throw new PgwardenError('ERR_CONFIG_SECRET', `audit signing key ${file} is not JSON`, {
      cause: err,
    });
  }
  return toSigningKey(jwk, jwk.kid);
}

function b64url(data: string | Buffer): string {
  return Buffer.from(data).toString('base64url');
}

/**
 * Signs `payload` as a compact JWS. Node's Ed25519 signing is synchronous, which lets the trail
 * seal a checkpoint in the same turn as the records around it, keeping call order = chain order.
 * Verification uses jose (`compactVerify`), so the output is checked by an independent reader.
 */
export function signCompact(key: SigningKey, payload: Record<string, unknown>): string {
  const header = b64url(JSON.stringify({ alg: 'EdDSA', kid: key.kid }));
  const body = b64url(JSON.stringify(payload));
  const input = `${header}.${body}`;
  const signature = signBytes(null, Buffer.from(input), key.privateKey);
  return `${input}.${b64url(signature)}`;
}

/** Reads a JWKS file; a missing file is an empty set. */
export async function readJwks(file: string): Promise<JsonWebKeySet> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { keys: [] };
    throw err;
  }
  const parsed = JSON.parse(text) as Partial<JsonWebKeySet>;
  if (!Array.isArray(parsed.keys)) {
    throw new PgwardenError('ERR_AUDIT_VERIFY', `${file} is not a JWKS (no "keys" array)`);
  }
  return { keys: parsed.keys };
}

/**
 * Publishes `key` in the folder's JWKS file, keeping keys already there so checkpoints signed
 * before a key change still verify. Written to a temporary name and renamed, so a reader never
 * sees half a file.
 */
export async function publishJwks(dir: string, key: SigningKey): Promise<JsonWebKeySet> {
  const file = join(dir, JWKS_FILE);
  const current = await readJwks(file);
  const others = current.keys.filter((k) => k.kid !== key.kid);
  const set: JsonWebKeySet = { keys: [...others, key.publicJwk] };
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, `${JSON.stringify(set, null, 2)}\n`, { mode: 0o644 });
  await rename(tmp, file);
  return set;
}
