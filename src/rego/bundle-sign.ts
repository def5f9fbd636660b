/**
 * Bundle signing as OPA defines it: `/.signatures.json` holds `{"signatures": [JWS]}`, a compact
 * JWS whose payload lists every other file of the bundle with its SHA-256. JSON files are hashed
 * in canonical form (keys sorted, no whitespace), other files over their bytes.
 */
import { createHash, createPrivateKey, type KeyObject } from 'node:crypto';
import { CompactSign } from 'jose';
import canonicalizeModule from 'canonicalize';
import { PgwardenError } from '../errors.js';
import type { TarEntry } from './bundle-tar.js';

type Canonicalize = (input: unknown) => string | undefined;
// The package is CommonJS with a default export; under NodeNext it arrives either way.
const canonicalize: Canonicalize =
  (canonicalizeModule as unknown as { default?: Canonicalize }).default ??
  (canonicalizeModule as unknown as Canonicalize);

/** A signing key read from a file: a PEM private key (RSA or EC) or an HMAC secret. */
export interface SigningKey {
  alg: string;
  key: KeyObject | Uint8Array;
}

/** Reads `--signing-key FILE` contents: PEM private keys sign with RS256/ES256, else HS256. */
export function parseSigningKey(contents: Buffer, alg?: string): SigningKey {
  const text = contents.toString('utf8');
  if (text.includes('-----BEGIN')) {
    let key: KeyObject;
    try {
      key = createPrivateKey(text);
    } catch (err) {
      throw new PgwardenError('ERR_BUNDLE_SIGNATURE', 'signing key is not a valid PEM key', {
        cause: err,
      });
    }
    const type = key.asymmetricKeyType;
    if (alg) return { alg, key };
    if (type === 'rsa') return { alg: 'RS256', key };
    if (type === 'ec') {
      const curve = key.asymmetricKeyDetails?.namedCurve;
      const byCurve: Record<string, string> = {
        prime256v1: 'ES256',
        secp384r1: 'ES384',
        secp521r1: 'ES512',
      };
      const chosen = curve ? byCurve[curve] : undefined;
      if (chosen) return { alg: chosen, key };
    }
    throw new PgwardenError('ERR_BUNDLE_SIGNATURE', `unsupported signing key type ${type ?? '?'}`);
  }
  return { alg: alg ?? 'HS256', key: new Uint8Array(contents) };
}

/** SHA-256 of a bundle file as OPA computes it for signatures. */
export function bundleFileHash(name: string, data: Uint8Array): string {
  const hash = createHash('sha256');
  if (name.endsWith('.json') || name.endsWith('.manifest')) {
    const text = canonicalize(JSON.parse(Buffer.from(data).toString('utf8')) as unknown);
    hash.update(text ?? '', 'utf8');
  } else {
    hash.update(data);
  }
  return hash.digest('hex');
}

/** The `.signatures.json` entry for the given files. */
export async function signBundle(
  entries: TarEntry[],
  signing: SigningKey,
  keyId?: string,
): Promise<TarEntry> {
  const files = entries.map((e) => {
    const name = e.name.replace(/^\/+/, '');
    return { name, hash: bundleFileHash(name, e.data), algorithm: 'SHA-256' };
  });
  const payload = { files, ...(keyId ? { keyid: keyId } : {}) };
  const jws = await new CompactSign(new TextEncoder().encode(JSON.stringify(payload)))
    .setProtectedHeader({ alg: signing.alg, ...(keyId ? { kid: keyId } : {}) })
    .sign(signing.key);
  return {
    name: '/.signatures.json',
    data: new TextEncoder().encode(JSON.stringify({ signatures: [jws] })),
  };
}
