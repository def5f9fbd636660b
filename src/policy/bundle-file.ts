/**
 * Reading OPA bundle files: a gzipped tar holding `/.manifest`, `/policy.wasm`, `/data.json`
 * (and data files in sub-folders), and optionally `/.signatures.json`.
 */
import { createHash } from 'node:crypto';
import { Parser, type ReadEntry } from 'tar';
import { PgwardenError } from '../errors.js';

/** A bundle's files by path, without a leading slash or `./`. */
export type BundleFiles = Map<string, Buffer>;

/** The bundle manifest, as far as pgwarden reads it. */
export interface BundleManifest {
  revision: string;
  roots?: string[];
  wasm?: Array<{ entrypoint: string; module: string }>;
  metadata?: Record<string, unknown>;
}

/** Bundles bigger than this are refused before they are unpacked. */
const MAX_BUNDLE_BYTES = 256 * 1024 * 1024;

/** Unpacks a `.tar.gz` bundle held in memory. */
export async function unpackBundle(archive: Buffer): Promise<BundleFiles> {
  const files: BundleFiles = new Map();
  let total = 0;
  await new Promise<void>((resolve, reject) => {
    const parser = new Parser({
      strict: true,
      onReadEntry(entry: ReadEntry) {
        if (entry.type === 'Directory') {
          entry.resume();
          return;
        }
        // Links and special files would make the archive mean different things to different
        // readers (and to the auditor's `tar -x`); a bundle holds regular files only.
        if (!FILE_TYPES.has(entry.type)) {
          parser.abort(new Error(`${entry.path} is a ${entry.type}, not a regular file`));
          return;
        }
        const name = normalizePath(entry.path);
        const problem = pathProblem(name);
        if (problem) {
          parser.abort(new Error(`${JSON.stringify(entry.path)} ${problem}`));
          return;
        }
        const chunks: Buffer[] = [];
        entry.on('data', (chunk: Buffer) => {
          total += chunk.length;
          if (total > MAX_BUNDLE_BYTES) parser.abort(new Error('bundle larger than 256 MiB'));
          chunks.push(chunk);
        });
        entry.on('end', () => files.set(name, Buffer.concat(chunks)));
      },
    });
    parser.on('error', reject);
    parser.on('abort', reject);
    parser.on('end', () => resolve());
    parser.end(archive);
  }).catch((err: unknown) => {
    throw new PgwardenError('ERR_BUNDLE_INVALID', `bundle archive unreadable: ${message(err)}`, {
      cause: err,
    });
  });
  return files;
}

/** Reads `/.manifest`; a bundle without one gets an empty revision, as OPA does. */
export function readManifest(files: BundleFiles): BundleManifest {
  const raw = files.get('.manifest');
  if (!raw) return { revision: '' };
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw.toString('utf8'));
  } catch (err) {
    throw new PgwardenError('ERR_BUNDLE_INVALID', `.manifest is not JSON: ${message(err)}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new PgwardenError('ERR_BUNDLE_INVALID', '.manifest must be a JSON object');
  }
  const manifest = parsed as Record<string, unknown>;
  const revision = manifest.revision ?? '';
  if (typeof revision !== 'string') {
    throw new PgwardenError('ERR_BUNDLE_INVALID', '.manifest revision must be a string');
  }
  return { ...(manifest as object), revision } as BundleManifest;
}

/**
 * The bundle hash, as docs/bundles.md defines it for auditors: SHA-256 over the listing that
 * `sha256sum` prints for every file of the bundle except `.signatures.json`, sorted by path in
 * byte order, one `<hex>  <path>\n` line each. It depends on the files' contents only, not on
 * tar or gzip metadata, so a folder compiled in-process and its built bundle hash alike.
 */
export function bundleHash(files: BundleFiles): string {
  const names = [...files.keys()].filter((n) => n !== '.signatures.json').sort(byteOrder);
  const listing = createHash('sha256');
  for (const name of names) {
    const digest = createHash('sha256').update(files.get(name)!).digest('hex');
    listing.update(`${digest}  ${name}\n`);
  }
  return listing.digest('hex');
}

/** Merges every `data.json` of the bundle into one document at the path of its folder. */
export function bundleData(files: BundleFiles): Record<string, unknown> {
  const data: Record<string, unknown> = {};
  const names = [...files.keys()].filter((n) => n === 'data.json' || n.endsWith('/data.json'));
  for (const name of names.sort(byteOrder)) {
    let value: unknown;
    try {
      value = JSON.parse(files.get(name)!.toString('utf8'));
    } catch (err) {
      throw new PgwardenError('ERR_BUNDLE_INVALID', `${name} is not JSON: ${message(err)}`);
    }
    const segments = name.split('/').slice(0, -1);
    mergeAt(data, segments, value, name);
  }
  return data;
}

/** Merges a data document into `data` at its root; a key defined on both sides is an error. */
export function mergeData(data: Record<string, unknown>, value: unknown, label: string): void {
  mergeAt(data, [], value, label);
}

function mergeAt(root: Record<string, unknown>, path: string[], value: unknown, file: string) {
  if (!isPlainObject(value)) {
    throw new PgwardenError('ERR_BUNDLE_INVALID', `${file} must hold a JSON object`);
  }
  let node = root;
  for (const segment of path) {
    node[segment] ??= {};
    const next = node[segment];
    if (!isPlainObject(next)) {
      throw new PgwardenError('ERR_BUNDLE_INVALID', `${file} overlaps a non-object value`);
    }
    node = next;
  }
  deepMerge(node, value, file);
}

function deepMerge(target: Record<string, unknown>, source: Record<string, unknown>, file: string) {
  for (const [key, value] of Object.entries(source)) {
    const existing = target[key];
    if (existing === undefined) target[key] = value;
    else if (isPlainObject(existing) && isPlainObject(value)) deepMerge(existing, value, file);
    else throw new PgwardenError('ERR_BUNDLE_INVALID', `${file}: data key ${key} defined twice`);
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const FILE_TYPES = new Set(['File', 'OldFile', 'ContiguousFile']);

/**
 * Why a member path is refused, or null. Paths escaping the bundle, and paths `sha256sum` would
 * print escaped (backslash, newline), would break the auditor's recipe for the bundle hash.
 */
function pathProblem(name: string): string | null {
  if (name === '') return 'is an empty path';
  if (name.split('/').some((s) => s === '..')) return 'leaves the bundle';
  if (/[\\\u0000-\u001f\u007f]/.test(name)) return 'holds a backslash or control character';
  return null;
}

/** `./a//b/./c` and `/a/b/c` both name `a/b/c`, as `tar -x` would place them. */
function normalizePath(path: string): string {
  return path
    .split('/')
    .filter((s) => s !== '' && s !== '.')
    .join('/');
}

function byteOrder(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
