/**
 * `pgwarden build`: Rego sources and data files -> an OPA bundle (gzipped tar) with
 * `/.manifest` (revision, roots, Wasm entrypoints), `/policy.wasm`, `/data.json` and, when a
 * signing key is given, `/.signatures.json`, laid out as OPA's bundle documentation describes.
 */
import { readFile, readdir, stat } from 'node:fs/promises';
import { basename, join, relative, sep } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { PgwardenError } from '../errors.js';
import { packTarGz, type TarEntry } from './bundle-tar.js';
import { parseSigningKey, signBundle } from './bundle-sign.js';
import { compileRego, RegoCompileError, type RegoSource } from './compile.js';

/** Options of {@link buildBundle}. */
export interface BuildBundleOptions {
  /** Files or directories holding `.rego` sources and `data.json` / `data.yaml` files. */
  paths: string[];
  /** Entrypoint paths (`pgwarden/decision`). */
  entrypoints: string[];
  /** Manifest revision; empty when not given. */
  revision?: string;
  /** Path of a signing key file (PEM private key, or an HMAC secret). */
  signingKey?: string;
  /** JWS algorithm; derived from the key when absent (RS256, ES256, HS256). */
  signingAlg?: string;
  /** Key id written into the signature (`keyid`). */
  keyId?: string;
  /** Accept Rego v0 syntax. */
  v0Compatible?: boolean;
}

/** What a walk over the input paths found. */
interface Found {
  sources: RegoSource[];
  data: Array<{ path: string[]; file: string }>;
}

const DATA_FILES = new Set(['data.json', 'data.yaml', 'data.yml']);

async function walk(root: string, dir: string, found: Found): Promise<void> {
  const entries = await readdir(dir, { withFileTypes: true });
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of entries) {
    const full = join(dir, e.name);
    if (e.isDirectory()) {
      if (e.name.startsWith('.') || e.name === 'node_modules') continue;
      await walk(root, full, found);
    } else if (e.isFile()) {
      await addFile(root, full, found);
    }
  }
}

async function addFile(root: string, file: string, found: Found): Promise<void> {
  const name = basename(file);
  if (name.endsWith('.rego')) {
    found.sources.push({ file, text: await readFile(file, 'utf8') });
  } else if (DATA_FILES.has(name)) {
    // A data file's place in `data` is its directory relative to the path it was found under.
    const rel = relative(root, file).split(sep).slice(0, -1);
    found.data.push({ path: rel.filter((p) => p !== '' && p !== '.'), file });
  }
}

async function collect(paths: string[]): Promise<Found> {
  const found: Found = { sources: [], data: [] };
  for (const p of paths) {
    const info = await stat(p).catch((err: unknown) => {
      throw new PgwardenError('ERR_BUNDLE_INVALID', `cannot read ${p}`, { cause: err });
    });
    if (info.isDirectory()) await walk(p, p, found);
    else await addFile(join(p, '..'), p, found);
  }
  return found;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Merges `value` at `path` into `target`; two files defining the same leaf conflict. */
function mergeData(
  target: Record<string, unknown>,
  path: string[],
  value: unknown,
  file: string,
): void {
  let node = target;
  for (const key of path) {
    const next = node[key];
    if (next === undefined) node[key] = {};
    else if (!isPlainObject(next)) {
      throw new PgwardenError(
        'ERR_BUNDLE_INVALID',
        `${file}: data path ${path.join('/')} conflicts`,
      );
    }
    node = node[key] as Record<string, unknown>;
  }
  if (!isPlainObject(value)) {
    throw new PgwardenError('ERR_BUNDLE_INVALID', `${file}: data file must hold an object`);
  }
  for (const [k, v] of Object.entries(value)) {
    const old = node[k];
    if (old === undefined) node[k] = v;
    else if (isPlainObject(old) && isPlainObject(v)) mergeData(node, [k], v, file);
    else throw new PgwardenError('ERR_BUNDLE_INVALID', `${file}: key ${k} is defined twice`);
  }
}

async function readData(found: Found): Promise<Record<string, unknown>> {
  const data: Record<string, unknown> = {};
  for (const d of found.data) {
    const text = await readFile(d.file, 'utf8');
    let value: unknown;
    try {
      value = d.file.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
    } catch (err) {
      throw new PgwardenError('ERR_BUNDLE_INVALID', `${d.file} is not valid`, { cause: err });
    }
    mergeData(data, d.path, value ?? {}, d.file);
  }
  return data;
}

/** Roots: the first segment of every package and of every top-level data key. */
function roots(sources: RegoSource[], data: Record<string, unknown>): string[] {
  const out = new Set(Object.keys(data));
  for (const s of sources) {
    const m = /^\s*package\s+([A-Za-z_][A-Za-z0-9_]*)/m.exec(s.text);
    if (m?.[1]) out.add(m[1]);
  }
  return [...out].sort();
}

/** Builds the bundle archive. Compile errors raise a RegoCompileError with every diagnostic. */
export async function buildBundle(options: BuildBundleOptions): Promise<Buffer> {
  if (options.entrypoints.length === 0) {
    throw new TypeError('buildBundle needs at least one entrypoint');
  }
  const found = await collect(options.paths);
  const data = await readData(found);
  const result = compileRego(found.sources, {
    entrypoints: options.entrypoints,
    v0Compatible: options.v0Compatible === true,
  });
  if (!result.ok || !result.wasm) throw new RegoCompileError(result.diagnostics);

  const manifest = {
    revision: options.revision ?? '',
    roots: roots(found.sources, data),
    wasm: options.entrypoints.map((entrypoint) => ({ entrypoint, module: '/policy.wasm' })),
  };
  const encoder = new TextEncoder();
  const entries: TarEntry[] = [
    { name: '/.manifest', data: encoder.encode(JSON.stringify(manifest)) },
    { name: '/data.json', data: encoder.encode(JSON.stringify(data)) },
    { name: '/policy.wasm', data: result.wasm },
  ];
  if (options.signingKey !== undefined) {
    const contents = await readFile(options.signingKey).catch((err: unknown) => {
      throw new PgwardenError('ERR_BUNDLE_SIGNATURE', `cannot read ${options.signingKey}`, {
        cause: err,
      });
    });
    const key = parseSigningKey(contents, options.signingAlg);
    entries.push(await signBundle(entries, key, options.keyId));
  }
  return packTarGz(entries);
}
