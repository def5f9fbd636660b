/**
 * Turns schema issues into one line per problem, each starting with the option's path
 * (`upstream.port: expected a number, got a string`), and the error that carries them.
 * Values from the file are not echoed, except where the text is the option's own name or a
 * duration, since a secret pasted into the wrong field must not end up in a terminal or a log.
 */
import type { z } from 'zod';
import { PgwardenError } from '../errors.js';

/** A configuration file that cannot be used; `problems` holds one line per problem. */
export class ConfigError extends PgwardenError {
  readonly problems: readonly string[];
  readonly source: string;

  constructor(
    source: string,
    problems: string[],
    code: 'ERR_CONFIG_INVALID' | 'ERR_CONFIG_SECRET',
  ) {
    const noun = problems.length === 1 ? 'problem' : 'problems';
    super(code, `${source}: ${problems.length} ${noun}\n${problems.join('\n')}`);
    this.name = 'ConfigError';
    this.problems = problems;
    this.source = source;
  }
}

/** Renders a path the way a reader finds it in YAML: `identity.issuers[0].issuer`. */
export function formatPath(segments: readonly PropertyKey[]): string {
  let out = '';
  for (const segment of segments) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else out += out === '' ? String(segment) : `.${String(segment)}`;
  }
  return out === '' ? '(top level)' : out;
}

const ARTICLE_TYPES: Record<string, string> = {
  number: 'a number',
  int: 'a whole number',
  string: 'a string',
  boolean: 'true or false',
  object: 'a mapping',
  array: 'a list',
  record: 'a mapping',
};

/** Names the YAML type of a value, as a reader of the file would call it. */
function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'number') return Number.isInteger(value) ? 'a whole number' : 'a number';
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  return `a ${typeof value}`;
}

function bound(issue: { minimum?: unknown; maximum?: unknown; origin?: string }): string {
  const limit = String(issue.minimum ?? issue.maximum);
  const which = issue.minimum !== undefined ? 'at least' : 'at most';
  if (issue.origin === 'array') return `must have ${which} ${limit} entries`;
  if (issue.origin === 'string') {
    return limit === '1' && issue.minimum !== undefined
      ? 'must not be empty'
      : `must be ${which} ${limit} characters`;
  }
  return `must be ${which} ${limit}`;
}

/** One message per issue, without the path. */
function message(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'invalid_type': {
      if (issue.input === undefined) return 'required';
      const expected = ARTICLE_TYPES[issue.expected] ?? issue.expected;
      return `expected ${expected}, got ${describe(issue.input)}`;
    }
    case 'invalid_value':
      return `expected one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
    case 'too_small':
    case 'too_big':
      return bound(issue);
    case 'invalid_format':
      return issue.format === 'url'
        ? issue.message.replace(/^Invalid URL$/, 'expected a URL')
        : issue.message;
    case 'invalid_union': {
      // Unions here carry their own message ("expected a database name or ...").
      return issue.message === 'Invalid input' ? 'has the wrong shape' : issue.message;
    }
    default:
      return issue.message;
  }
}

/** One line per issue: unknown keys are listed one per line under their own path. */
export function formatIssues(issues: readonly z.core.$ZodIssue[]): string[] {
  const lines: string[] = [];
  for (const issue of issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        lines.push(`${formatPath([...issue.path, key])}: unknown option`);
      }
      continue;
    }
    lines.push(`${formatPath(issue.path)}: ${message(issue)}`);
  }
  return lines;
}
