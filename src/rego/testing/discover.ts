/**
 * Finding what `pgwarden test PATH...` runs: the `.rego` files under the paths, and the data
 * files (`data.json`, `data.yaml`, `data.yml`) that become `data`, each mounted at its folder's
 * path below the root it was found under (as OPA's loader and bundles do).
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { parseDocument } from 'yaml';
import { PgwardenError } from '../../errors.js';
import { yamlToValue } from './yaml-value.js';
import { parseJson } from './parse.js';
import { obj, str, type RValue } from './value.js';

/** A Rego source file. */
export interface SourceFile {
  /** The path as given or found (relative paths stay relative, for readable reports). */
  readonly file: string;
  readonly text: string;
}

/** Everything found under the paths. */
export interface Discovered {
  readonly sources: SourceFile[];
  /** The merged base document. */
  readonly data: RValue;
}

const DATA_FILES = new Set(['data.json', 'data.yaml', 'data.yml']);

/** Walks the paths; throws `ERR_CONFIG_INVALID` for a missing path or conflicting data. */
export async function discover(paths: readonly string[]): Promise<Discovered> {
  const sources: SourceFile[] = [];
  let data: RValue = obj([]);
  const seen = new Set<string>();
  for (const root of paths) {
    const files = await walk(root);
    for (const file of files) {
      const key = path.resolve(file);
      if (seen.has(key)) continue;
      seen.add(key);
      const name = path.basename(file);
      if (file.endsWith('.rego')) {
        sources.push({ file, text: await readFile(file, 'utf8') });
      } else if (DATA_FILES.has(name)) {
        const rel = path.relative(root, path.dirname(file));
        const prefix = rel === '' || rel.startsWith('..') ? [] : rel.split(path.sep);
        data = merge(data, mount(prefix, await readData(file)), file);
      }
    }
  }
  return { sources, data };
}

async function walk(p: string): Promise<string[]> {
  let s;
  try {
    s = await stat(p);
  } catch {
    throw new PgwardenError('ERR_CONFIG_INVALID', `no such file or directory: ${p}`);
  }
  if (s.isFile()) return [p];
  const out: string[] = [];
  const entries = await readdir(p, { withFileTypes: true });
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of entries) {
    if (e.name.startsWith('.')) continue;
    const child = path.join(p, e.name);
    if (e.isDirectory()) out.push(...(await walk(child)));
    else if (e.isFile()) out.push(child);
  }
  return out;
}

async function readData(file: string): Promise<RValue> {
  const text = await readFile(file, 'utf8');
  try {
    if (file.endsWith('.json')) return parseJson(text);
    const doc = parseDocument(text, { keepSourceTokens: true });
    if (doc.errors.length > 0) throw new Error(doc.errors[0]?.message);
    return yamlToValue(doc.contents, doc);
  } catch (err) {
    throw new PgwardenError('ERR_CONFIG_INVALID', `cannot read data file ${file}: ${String(err)}`, {
      cause: err,
    });
  }
}

function mount(prefix: readonly string[], v: RValue): RValue {
  return prefix.reduceRight<RValue>((acc, seg) => obj([[str(seg), acc]]), v);
}

/** Deep-merges objects; two different non-object values at one path are a conflict. */
function merge(a: RValue, b: RValue, file: string): RValue {
  if (a.t !== 'obj' || b.t !== 'obj') {
    throw new PgwardenError('ERR_CONFIG_INVALID', `data in ${file} conflicts with other data`);
  }
  const entries = new Map<string, [RValue, RValue]>();
  for (const [k, v] of a.v) entries.set(JSON.stringify(k), [k, v]);
  for (const [k, v] of b.v) {
    const key = JSON.stringify(k);
    const prev = entries.get(key);
    entries.set(key, [k, prev ? merge(prev[1], v, file) : v]);
  }
  return obj([...entries.values()]);
}
