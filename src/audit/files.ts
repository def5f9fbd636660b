/**
 * Where the trail lives on disk: one folder, files named `audit-<instance>-<first seq>.jsonl`,
 * one chain per instance. Helpers here list a chain's files in order and read their lines.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

const FILE_NAME = /^audit-(.+)-(\d{12})\.jsonl$/;

/** One file of a chain. */
export interface ChainFile {
  path: string;
  name: string;
  instance: string;
  /** Sequence number of the file's first record, from its name. */
  firstSeq: number;
  /** The content, when it does not come from a file (the PostgreSQL sink). */
  content?: FileContent;
}

/** One complete line of a file (without its newline). */
export interface FileLine {
  /** 1-based line number. */
  line: number;
  /** Byte offset of the line's first byte. */
  offset: number;
  text: string;
}

/** The lines of a file, and the bytes after the last newline (a write cut short), if any. */
export interface FileContent {
  lines: FileLine[];
  torn: { offset: number; bytes: number } | null;
}

/** Makes an instance name safe for a file name. */
export function fileInstance(instance: string): string {
  return instance.replace(/[^A-Za-z0-9_.]/g, '_');
}

/** The file name of the file whose first record has `seq`. */
export function chainFileName(instance: string, seq: number): string {
  return `audit-${fileInstance(instance)}-${String(seq).padStart(12, '0')}.jsonl`;
}

/** Parses a chain file name; undefined for other files. */
export function parseChainFileName(name: string): Omit<ChainFile, 'path'> | undefined {
  const m = FILE_NAME.exec(name);
  if (!m) return undefined;
  return { name, instance: m[1] as string, firstSeq: Number(m[2]) };
}

/** Lists the chain files of a folder, grouped by instance, each group in sequence order. */
export async function listChains(dir: string): Promise<Map<string, ChainFile[]>> {
  const names = await readdir(dir);
  const chains = new Map<string, ChainFile[]>();
  for (const name of names) {
    const parsed = parseChainFileName(name);
    if (!parsed) continue;
    const list = chains.get(parsed.instance) ?? [];
    list.push({ ...parsed, path: join(dir, name) });
    chains.set(parsed.instance, list);
  }
  for (const list of chains.values()) list.sort((a, b) => a.firstSeq - b.firstSeq);
  return chains;
}

/**
 * Resolves what a command was pointed at: a folder (every chain in it) or one file (that file
 * alone, even if its name does not follow the pattern).
 */
export async function resolveTrailPath(path: string): Promise<ChainFile[][]> {
  if (/^postgres(ql)?:\/\//.test(path)) {
    const { loadPostgresChains } = await import('./postgres.js');
    return loadPostgresChains(path);
  }
  const info = await stat(path);
  if (info.isDirectory()) return [...(await listChains(path)).values()];
  const name = basename(path);
  const parsed = parseChainFileName(name) ?? { name, instance: '', firstSeq: 0 };
  return [[{ ...parsed, path: join(dirname(path), name) }]];
}

/** Splits a file into complete lines; bytes after the last newline are reported as torn. */
export function splitLines(data: Buffer): FileContent {
  const lines: FileLine[] = [];
  let start = 0;
  let lineNo = 0;
  for (;;) {
    const nl = data.indexOf(10, start);
    if (nl < 0) break;
    lineNo++;
    lines.push({ line: lineNo, offset: start, text: data.toString('utf8', start, nl) });
    start = nl + 1;
  }
  const torn = start < data.length ? { offset: start, bytes: data.length - start } : null;
  return { lines, torn };
}

/** Reads and splits one file. */
export async function readLines(path: string): Promise<FileContent> {
  return splitLines(await readFile(path));
}

/** The lines of one file of a chain, wherever they come from. */
export async function fileContent(file: ChainFile): Promise<FileContent> {
  return file.content ?? readLines(file.path);
}
