/**
 * Reading a configuration file: YAML syntax first (every syntax error with its line and column),
 * then the schema (every problem with its option path). Either stage fails with one
 * {@link ConfigError} listing all it found, so an operator fixes the file in one pass.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseDocument } from 'yaml';
import { ConfigError, formatIssues } from './problems.js';
import { type Config, configSchema } from './schema.js';

/** Options for {@link parseConfig}. */
export interface ParseOptions {
  /** Folder that relative paths are resolved against; the source's folder by default. */
  baseDir?: string;
}

/**
 * Parses and validates configuration text. `source` names the text in messages (usually its file
 * path); relative paths inside it resolve against `options.baseDir`, or the folder of `source`.
 */
export function parseConfig(text: string, source: string, options: ParseOptions = {}): Config {
  const baseDir = options.baseDir ?? path.dirname(path.resolve(source));
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const problems = doc.errors.map((err) => {
      const where = err.linePos?.[0];
      const at = where ? `line ${where.line}, column ${where.col}` : 'YAML';
      return `${at}: ${firstLine(err.message).replace(/ at line \d+, column \d+:?$/, '')}`;
    });
    throw new ConfigError(source, problems, 'ERR_CONFIG_INVALID');
  }

  // An empty file is an empty mapping, so the report lists the options that are required.
  const raw: unknown = doc.toJS({ maxAliasCount: 100 }) ?? {};
  const result = configSchema(baseDir).safeParse(raw, { reportInput: true });
  if (!result.success) {
    throw new ConfigError(source, formatIssues(result.error.issues), 'ERR_CONFIG_INVALID');
  }
  return result.data;
}

/** Reads, parses and validates the configuration file at `file`. */
export function loadConfig(file: string): Config {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : 'unreadable';
    throw new ConfigError(
      file,
      [`cannot read the configuration file (${reason})`],
      'ERR_CONFIG_INVALID',
    );
  }
  return parseConfig(text, file);
}

function firstLine(text: string): string {
  return text.split('\n', 1)[0] ?? text;
}
