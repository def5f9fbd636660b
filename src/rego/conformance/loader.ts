/**
 * Reads conformance case files of both upstream schemas (see ../shared/conformance/README.md)
 * into {@link ConformanceCase}s. The files are data written by others: they are read where
 * they are, never copied, and a file that cannot be read becomes a failing case, not a crash.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { isSeq, parseAllDocuments, type Document } from 'yaml';
import { parseRegoValue } from '../testing/parse.js';
import { isJsonValue, obj, set, UNDEFINED, type RValue } from '../testing/value.js';
import type { CaseInput, ConformanceCase, Expectation, Suite } from './cases.js';
import { mapEntries, yamlToValue } from '../testing/yaml-value.js';

/** A case file that could not be read, reported as one failure. */
export interface BrokenFile {
  readonly file: string;
  readonly category: string;
  readonly reason: string;
}

/** Everything found under the given paths. */
export interface LoadedCases {
  readonly cases: ConformanceCase[];
  readonly broken: BrokenFile[];
}

/** Lists `.yaml`/`.yml` files under each path (a file path is taken as is), sorted. */
export async function findCaseFiles(paths: readonly string[]): Promise<string[]> {
  const out = new Set<string>();
  const walk = async (p: string): Promise<void> => {
    const s = await stat(p);
    if (s.isFile()) {
      out.add(path.resolve(p));
      return;
    }
    for (const entry of await readdir(p, { withFileTypes: true })) {
      const child = path.join(p, entry.name);
      if (entry.isDirectory()) await walk(child);
      else if (/\.ya?ml$/.test(entry.name)) out.add(path.resolve(child));
    }
  };
  for (const p of paths) await walk(p);
  return [...out].sort();
}

/** Loads every case under the given paths. */
export async function loadCases(paths: readonly string[]): Promise<LoadedCases> {
  const cases: ConformanceCase[] = [];
  const broken: BrokenFile[] = [];
  for (const file of await findCaseFiles(paths)) {
    const { suite, category, label } = classify(file);
    try {
      const text = await readFile(file, 'utf8');
      cases.push(...parseCaseFile(text, { file, label, suite, category }));
    } catch (err) {
      broken.push({ file: label, category, reason: `unreadable case file: ${errText(err)}` });
    }
  }
  return { cases, broken };
}

/** Where a file sits: its suite and category from the `opa/` or `regorus/` folder above it. */
export function classify(file: string): { suite: Suite; category: string; label: string } {
  const parts = path.resolve(file).split(path.sep);
  let at = -1;
  for (let i = parts.length - 2; i >= 0; i--) {
    if (parts[i] === 'opa' || parts[i] === 'regorus') {
      at = i;
      break;
    }
  }
  if (at < 0) {
    const dir = parts[parts.length - 2] ?? '';
    return { suite: 'opa', category: dir, label: parts.slice(-2).join('/') };
  }
  const suite = parts[at] as Suite;
  const folders = parts.slice(at + 1, -1);
  const category = `${suite}/${folders.length > 0 ? folders.join('/') : '(root)'}`;
  return { suite, category, label: parts.slice(at).join('/') };
}

interface FileInfo {
  file: string;
  label: string;
  suite: Suite;
  category: string;
}

function parseYaml(text: string): Document[] {
  const docs = parseAllDocuments(text, { keepSourceTokens: true });
  const errorOf = (ds: typeof docs): string | undefined => {
    if (!Array.isArray(ds)) return 'not a YAML document';
    return ds.flatMap((d) => d.errors)[0]?.message;
  };
  const first = errorOf(docs);
  if (first === undefined) return docs as Document[];
  // libyaml (regorus' serde_yaml) accepts a flow collection whose continuation lines are
  // indented less than its key; `yaml` does not. Joining such collections onto one line
  // keeps their meaning and lets the strict parser read them.
  const retry = parseAllDocuments(joinFlowCollections(text), { keepSourceTokens: true });
  if (errorOf(retry) === undefined) return retry as Document[];
  throw new Error(`YAML error: ${first}`);
}

/** Joins `key: [` / `key: {` collections spread over lines into one line. */
export function joinFlowCollections(text: string): string {
  const lines = text.split('\n');
  const out: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i] as string;
    if (/:\s*[[{]\s*$/.test(line)) {
      let depth = bracketDepth(line);
      while (depth > 0 && i + 1 < lines.length) {
        const next = (lines[++i] as string).trim();
        line += ` ${next}`;
        depth += bracketDepth(next);
      }
    }
    out.push(line);
  }
  return out.join('\n');
}

function bracketDepth(s: string): number {
  let depth = 0;
  let quote = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (quote) {
      if (c === '\\') i++;
      else if (c === quote) quote = '';
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '#' && (i === 0 || /\s/.test(s[i - 1] as string))) break;
    else if (c === '[' || c === '{') depth++;
    else if (c === ']' || c === '}') depth--;
  }
  return depth;
}

/** Parses one case file's text. */
export function parseCaseFile(text: string, info: FileInfo): ConformanceCase[] {
  const out: ConformanceCase[] = [];
  for (const doc of parseYaml(text)) {
    const casesNode = mapEntries(doc.contents).get('cases');
    if (!isSeq(casesNode)) continue;
    for (const node of casesNode.items) {
      const index = out.length;
      out.push(
        info.suite === 'opa'
          ? opaCase(node, doc, info, index)
          : regorusCase(node, doc, info, index),
      );
    }
  }
  return out;
}

function common(node: unknown, doc: Document, info: FileInfo, index: number) {
  const f = mapEntries(node);
  const value = (key: string): RValue | undefined =>
    f.has(key) ? yamlToValue(f.get(key), doc) : undefined;
  const text = (key: string): string | undefined => {
    const v = value(key);
    return v?.t === 'str' ? v.v : undefined;
  };
  const flag = (key: string): boolean | undefined => {
    const v = value(key);
    return v?.t === 'bool' ? v.v : undefined;
  };
  const modulesNode = f.get('modules');
  const modules = isSeq(modulesNode)
    ? modulesNode.items.map((m) => {
        const v = yamlToValue(m, doc);
        return v.t === 'str' ? v.v : '';
      })
    : [];
  const data = value('data');
  return {
    f,
    value,
    text,
    flag,
    base: {
      id: `${info.label}#${index}`,
      suite: info.suite,
      category: info.category,
      file: info.file,
      index,
      note: text('note') ?? `case ${index}`,
      query: text('query') ?? '',
      modules,
      ...(data !== undefined && data.t !== 'null' ? { data } : {}),
    },
  };
}

function opaCase(node: unknown, doc: Document, info: FileInfo, index: number): ConformanceCase {
  const { value, text, flag, base } = common(node, doc, info, index);
  const strict = flag('strict_error') ?? false;
  const code = text('want_error_code');
  const message = text('want_error');
  const want = value('want_result');
  let expect: Expectation;
  if (code !== undefined || message !== undefined) {
    expect = { kind: 'error', ...(message ? { message } : {}), ...(code ? { code } : {}) };
  } else if (want?.t === 'arr') {
    expect = { kind: 'rows', rows: want.v, sortBindings: flag('sort_bindings') ?? false };
  } else {
    expect = { kind: 'success' };
  }
  const inputs: CaseInput[] = [];
  const termText = text('input_term');
  const input = value('input');
  if (termText !== undefined) inputs.push(termInput(termText));
  else if (input !== undefined && input.t !== 'null') inputs.push({ kind: 'value', value: input });
  else inputs.push({ kind: 'none' });
  const skip = experimentalSyntax(base.modules);
  return { ...base, v0: false, inputs, expect, strict, ...(skip ? { skip } : {}) };
}

function termInput(text: string): CaseInput {
  const value = parseRegoValue(text);
  return isJsonValue(value) ? { kind: 'value', value } : { kind: 'term', text, value };
}

/** Syntax the issue allows to skip: experimental OPA features beyond Rego v1. */
function experimentalSyntax(modules: readonly string[]): string | undefined {
  for (const m of modules) {
    if (/^\s*import\s+rego\.v2\b/m.test(m)) {
      return 'experimental syntax beyond Rego v1: import rego.v2';
    }
    if (/^\s*import\s+future\.keywords\.not\b/m.test(m)) {
      return 'experimental syntax beyond Rego v1: import future.keywords.not';
    }
  }
  return undefined;
}

function regorusCase(node: unknown, doc: Document, info: FileInfo, index: number): ConformanceCase {
  const { f, value, text, flag, base } = common(node, doc, info, index);
  const many = (v: RValue | undefined): RValue[] | undefined => {
    if (v?.t !== 'obj' || v.v.length !== 1) return undefined;
    const [k, x] = v.v[0] as readonly [RValue, RValue];
    return k.t === 'str' && k.v === 'many!' && x.t === 'arr' ? [...x.v] : undefined;
  };
  const input = value('input');
  // A null input is no input, as both runners deserialize it.
  const inputs: CaseInput[] =
    input === undefined || input.t === 'null'
      ? [{ kind: 'none' }]
      : (many(input) ?? [input]).map((v) => ({ kind: 'value', value: v }));
  let expect: Expectation;
  const error = text('error');
  if (error !== undefined) expect = { kind: 'error', message: error, wordingOwn: true };
  else if (f.has('want_result')) {
    // regorus reads expected results into its own values, where `7:` is a number key.
    const want = yamlToValue(f.get('want_result'), doc, true);
    const values = many(want) ?? [want ?? UNDEFINED];
    expect = { kind: 'values', values: values.map(decodeRegorus) };
  } else expect = { kind: 'success' };
  // regorus' runner parses modules as v0 except in this one file, which is written in v1.
  const v0 = !info.label.endsWith('binding/bindings.yaml');
  // regorus' `skip: true` marks cases regorus itself does not pass yet; they say nothing about
  // OPA's behaviour, so they run like any other case and the result only remarks on the flag.
  const remarks: string[] = [];
  if (flag('skip')) remarks.push('the upstream regorus case is marked skip: true');
  // regorus prefixes each printed line with its own file:line form; print output is not compared.
  if (f.has('want_prints')) remarks.push('want_prints (print output) is not compared');
  return {
    ...base,
    v0,
    inputs,
    expect,
    strict: flag('strict') ?? true,
    ...(remarks.length > 0 ? { unchecked: remarks.join('; ') } : {}),
  };
}

/** regorus' value encodings: `set!: [...]`, `object!: [{key, value}]`, `"#undefined"`. */
export function decodeRegorus(v: RValue): RValue {
  switch (v.t) {
    case 'str':
      return v.v === '#undefined' ? UNDEFINED : v;
    case 'arr':
      return { t: 'arr', v: v.v.map(decodeRegorus) };
    case 'obj': {
      const only = v.v.length === 1 ? v.v[0] : undefined;
      if (only && only[0].t === 'str' && only[1].t === 'arr') {
        if (only[0].v === 'set!') return set(only[1].v.map(decodeRegorus));
        if (only[0].v === 'object!') {
          return obj(
            only[1].v.map(
              (item) =>
                [decodeRegorus(field(item, 'key')), decodeRegorus(field(item, 'value'))] as const,
            ),
          );
        }
      }
      return obj(v.v.map(([k, x]) => [decodeRegorus(k), decodeRegorus(x)] as const));
    }
    default:
      return v;
  }
}

function field(item: RValue, name: string): RValue {
  if (item.t !== 'obj') return UNDEFINED;
  const hit = item.v.find(([k]) => k.t === 'str' && k.v === name);
  return hit ? hit[1] : UNDEFINED;
}

function errText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
