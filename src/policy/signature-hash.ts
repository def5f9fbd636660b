/**
 * File digests for bundle signatures, computed the way OPA computes them (its `bundle/hash.go`
 * and `bundle/verify.go`), so that bundles signed by `opa build --signing-key` verify here and
 * bundles signed here verify in OPA.
 *
 * - Structured files (base name `data.json`, `data.yaml`, `.manifest` or `.signatures.json`) are
 *   parsed and hashed over a canonical text: object keys sorted by their UTF-8 bytes, no
 *   whitespace, strings escaped as Go's `encoding/json` escapes them without HTML escaping, and
 *   numbers written exactly as they appear in the file (OPA decodes them as `json.Number`).
 * - Every other file is hashed over its bytes.
 */
import { createHash, type Hash } from 'node:crypto';
import { isLosslessNumber, parse as parseLossless } from 'lossless-json';
import { parse as parseYaml } from 'yaml';
import { PgwardenError } from '../errors.js';

/** OPA's hashing algorithm names, mapped to Node's; MD5 and SHA-1 are refused as too weak. */
const ALGORITHMS: Readonly<Record<string, string>> = {
  'SHA-224': 'sha224',
  'SHA-256': 'sha256',
  'SHA-384': 'sha384',
  'SHA-512': 'sha512',
  'SHA-512-224': 'sha512-224',
  'SHA-512-256': 'sha512-256',
};

const STRUCTURED = new Set(['data.json', 'data.yaml', '.manifest', '.signatures.json']);

/** True for the files OPA hashes over their parsed JSON rather than their bytes. */
export function isStructuredFile(path: string): boolean {
  return STRUCTURED.has(path.slice(path.lastIndexOf('/') + 1));
}

/**
 * The hex digest OPA records for `path` in a signature's file list.
 * Throws ERR_BUNDLE_SIGNATURE for an unsupported algorithm or a structured file that does not
 * parse.
 */
export function signatureFileHash(path: string, data: Uint8Array, algorithm = 'SHA-256'): string {
  const nodeName = ALGORITHMS[algorithm];
  if (!nodeName) {
    throw new PgwardenError(
      'ERR_BUNDLE_SIGNATURE',
      `${path}: hashing algorithm ${algorithm} is not accepted (use SHA-256)`,
    );
  }
  const hash = createHash(nodeName);
  if (!isStructuredFile(path)) return hash.update(data).digest('hex');
  walk(parseStructured(path, data), hash);
  return hash.digest('hex');
}

function parseStructured(path: string, data: Uint8Array): unknown {
  const text = Buffer.from(data).toString('utf8');
  try {
    // OPA accepts YAML where JSON is expected (util.Unmarshal converts it), for data.yaml.
    return path.endsWith('.yaml') ? parseYaml(text) : parseLossless(text);
  } catch (err) {
    throw new PgwardenError('ERR_BUNDLE_SIGNATURE', `${path} does not parse for hashing`, {
      cause: err,
    });
  }
}

/** Feeds the canonical text of `value` into `hash`, piece by piece as OPA's walk does. */
function walk(value: unknown, hash: Hash): void {
  if (Array.isArray(value)) {
    hash.update('[');
    value.forEach((item, i) => {
      if (i > 0) hash.update(',');
      walk(item, hash);
    });
    hash.update(']');
    return;
  }
  if (isLosslessNumber(value)) {
    // The number's own text: "1.0" stays "1.0", as json.Number keeps it.
    hash.update(value.value);
    return;
  }
  if (typeof value === 'object' && value !== null) {
    const record = value as Record<string, unknown>;
    const keys = Object.keys(record).sort(byUtf8);
    hash.update('{');
    keys.forEach((key, i) => {
      if (i > 0) hash.update(',');
      hash.update(goString(key));
      hash.update(':');
      walk(record[key], hash);
    });
    hash.update('}');
    return;
  }
  if (typeof value === 'string') hash.update(goString(value));
  else hash.update(JSON.stringify(value) ?? 'null');
}

/**
 * A string as Go's encoder writes it with HTML escaping off. It differs from JSON.stringify in
 * escaping U+2028 and U+2029, and in turning lone surrogates into U+FFFD (Go cannot hold them).
 */
export function goString(value: string): string {
  const wellFormed = value.replace(
    /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g,
    '\uFFFD',
  );
  return JSON.stringify(wellFormed).replace(/[\u2028\u2029]/g, (c) =>
    c === '\u2028' ? '\\u2028' : '\\u2029',
  );
}

/** Go sorts map keys by bytes; JavaScript's default sort compares UTF-16 units. */
function byUtf8(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}
