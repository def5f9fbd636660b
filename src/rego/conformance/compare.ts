/**
 * Comparing what a case produced with what it expects, as the two upstream runners do:
 * OPA compares rows of bindings in the JSON shape of results (sets as sorted lists,
 * `sort_bindings` sorting the lists in each binding); regorus compares one value per input,
 * sets as sets. Error messages are matched as substrings, allowing for the wording changes
 * between OPA versions that ../shared/conformance/README.md lists.
 */
import { parseJson } from '../testing/parse.js';
import {
  arr,
  compareValues,
  formatValue,
  obj,
  str,
  toJsonShape,
  toJsonText,
  valuesEqual,
  type RValue,
} from '../testing/value.js';
import type { Expectation, FailureCause } from './cases.js';
import { QUERY_FILE, type QueryShape } from './query.js';

/** What running a case produced. */
export type Outcome =
  | { readonly kind: 'compile_error'; readonly messages: readonly string[] }
  | { readonly kind: 'eval_error'; readonly message: string }
  /** Per input, the solutions (binding objects, or arrays of expression values) in order. */
  | {
      readonly kind: 'results';
      readonly perInput: readonly (readonly RValue[])[];
      readonly shape: QueryShape;
    };

/** A verdict: `undefined` on a match, else why not. */
export type Mismatch = { readonly cause: FailureCause; readonly reason: string } | undefined;

/** A match with a remark: what differed but is accepted. */
export interface Accepted {
  readonly remark: string;
}

/** How strictly to judge. */
export interface JudgeOptions {
  /** Require regorus' own error wording too (off: any error matches, with a remark). */
  readonly strictMessages?: boolean;
}

/** Compares an outcome with an expectation. */
export function judge(
  expect: Expectation,
  outcome: Outcome,
  options: JudgeOptions = {},
): Mismatch | Accepted {
  if (expect.kind === 'error') return judgeError(expect, outcome, options);
  if (outcome.kind === 'compile_error') {
    return { cause: 'compile_error', reason: `compile error: ${outcome.messages.join('; ')}` };
  }
  if (outcome.kind === 'eval_error') {
    return { cause: 'eval_error', reason: `evaluation error: ${outcome.message}` };
  }
  if (expect.kind === 'success') return undefined;
  if (expect.kind === 'rows')
    return judgeRows(expect.rows, expect.sortBindings, outcome.perInput[0] ?? []);
  return judgeValues(expect.values, regorusResults(outcome.perInput, outcome.shape));
}

function judgeRows(
  want: readonly RValue[],
  sortBindings: boolean,
  got: readonly RValue[],
): Mismatch {
  const norm = (row: RValue): RValue => {
    const shaped = normalizeKeys(toJsonShape(row));
    if (!sortBindings || shaped.t !== 'obj') return shaped;
    return obj(
      shaped.v.map(([k, v]) => [k, v.t === 'arr' ? arr([...v.v].sort(compareValues)) : v] as const),
    );
  };
  const a = got.map(norm).sort(compareValues);
  const b = want.map(norm).sort(compareValues);
  if (a.length === b.length && a.every((x, i) => valuesEqual(x, b[i] as RValue))) return undefined;
  return {
    cause: 'wrong_result',
    reason: `want ${b.length} row(s) ${brief(arr(b))}, got ${a.length}: ${brief(arr(a))}`,
  };
}

/**
 * The values regorus' runner collects: per evaluation, a lone solution gives its bindings or
 * each expression's value; several solutions give one bindings object or one array of
 * expression values each; no solution gives nothing.
 */
export function regorusResults(
  perInput: readonly (readonly RValue[])[],
  shape: QueryShape,
): RValue[] {
  const out: RValue[] = [];
  for (const rows of perInput) {
    const [only] = rows;
    if (rows.length === 1 && only && shape.kind === 'expressions' && only.t === 'arr') {
      out.push(...only.v);
    } else {
      out.push(...rows);
    }
  }
  return out;
}

function judgeValues(want: readonly RValue[], got: readonly RValue[]): Mismatch {
  if (got.length === want.length && got.every((g, i) => valuesEqual(g, want[i] as RValue))) {
    return undefined;
  }
  return {
    cause: 'wrong_result',
    reason: `want ${brief(arr(want))}, got ${brief(arr(got))}`,
  };
}

/**
 * Object keys in OPA's result shape are strings; a non-string key arrives as its JSON text,
 * and the case files write such keys with their own spacing (`'{"3": 4}'`), so keys that are
 * JSON text of a non-string are rewritten compactly on both sides.
 */
export function normalizeKeys(v: RValue): RValue {
  if (v.t === 'arr') return arr(v.v.map(normalizeKeys));
  if (v.t !== 'obj') return v;
  return obj(
    v.v.map(([k, x]) => [k.t === 'str' ? str(canonicalKey(k.v)) : k, normalizeKeys(x)] as const),
  );
}

function canonicalKey(key: string): string {
  if (!/^[[{\d\-tfn]/.test(key)) return key;
  try {
    const parsed = parseJson(key);
    return parsed.t === 'str' ? key : toJsonText(toJsonShape(parsed));
  } catch {
    return key;
  }
}

/** Error messages that name the same failure in different OPA versions. */
const SYNONYMS: readonly RegExp[] = [
  new RegExp(
    'complete rules must not produce multiple outputs|produced conflicting values|' +
      'var assignment conflict|conflicting rules?',
    'i',
  ),
  /functions must not produce multiple outputs|produced conflicting values for the same inputs/i,
  /object keys must be unique|object insert conflict|duplicate (object )?key/i,
  /could not find function|undefined function/i,
];

/** The conflict family: OPA reports all of these as `eval_conflict_error`. */
const CONFLICT = /multiple outputs|conflict|keys must be unique|object insert/i;
const TYPE_ERROR = /operand \d+ must be|must be .* but got|eval_type_error/i;

function judgeError(
  expect: Extract<Expectation, { kind: 'error' }>,
  outcome: Outcome,
  options: JudgeOptions,
): Mismatch | Accepted {
  if (outcome.kind === 'results') {
    return {
      cause: 'missing_error',
      reason:
        `want error ${expect.code ?? ''} ${JSON.stringify(expect.message ?? '')}, ` +
        'got a result',
    };
  }
  const actual = outcome.kind === 'compile_error' ? outcome.messages.join('\n') : outcome.message;
  if (expect.message !== undefined && !messageMatches(expect.message, actual)) {
    if (expect.wordingOwn && !options.strictMessages && !isGap(expect.message, actual)) {
      return { remark: `error wording differs: got ${JSON.stringify(oneLine(actual))}` };
    }
    return {
      cause: 'wrong_error',
      reason: `want error ${JSON.stringify(expect.message)}, got ${JSON.stringify(actual)}`,
    };
  }
  if (expect.code !== undefined) {
    if (outcome.kind === 'compile_error' && expect.message === undefined) {
      return {
        cause: 'wrong_error',
        reason: `want ${expect.code} at evaluation, got compile error ${JSON.stringify(actual)}`,
      };
    }
    const code = errorClass(actual);
    if (code !== undefined && code !== expect.code) {
      return {
        cause: 'wrong_error',
        reason: `want ${expect.code}, got ${code}: ${JSON.stringify(actual)}`,
      };
    }
  }
  return undefined;
}

/**
 * Errors that show a gap rather than the expected failure in other words: a builtin the
 * compiler lacks while the case complains about that builtin's arguments, something not
 * supported, or an error in the harness's own generated module.
 */
function isGap(want: string, actual: string): boolean {
  if (/not supported/i.test(actual)) return true;
  // The generated module is valid Rego; a syntax error in it is the query's own, anything
  // else located there comes from the harness's wrapping.
  const inQuery = actual.split('\n').filter((l) => l.includes(QUERY_FILE));
  if (inQuery.some((l) => !l.includes('rego_parse_error'))) return true;
  const missing = /undefined function ([\w.]+)/.exec(actual)?.[1];
  return missing !== undefined && want.includes(missing);
}

/** True when `actual` says what `want` says (substring, location prefixes and synonyms aside). */
export function messageMatches(want: string, actual: string): boolean {
  if (actual.includes(want)) return true;
  const bare = stripLocation(want);
  if (actual.includes(bare)) return true;
  return SYNONYMS.some((re) => re.test(bare) && re.test(actual));
}

function stripLocation(message: string): string {
  return message
    .replace(/^[^\s:]+\.rego:\d+(?::\d+)?:\s*/, '')
    .replace(/^(?:eval|rego)_\w+_error:\s*/, '');
}

/** The OPA error class an error message belongs to, when the message tells. */
export function errorClass(message: string): string | undefined {
  const explicit = /\b(eval_(?:conflict|type|builtin)_error)\b/.exec(message);
  if (explicit) return explicit[1];
  if (CONFLICT.test(message)) return 'eval_conflict_error';
  if (TYPE_ERROR.test(message)) return 'eval_type_error';
  return undefined;
}

function oneLine(s: string): string {
  const line = s.replace(/\s+/g, ' ').trim();
  return line.length > 200 ? `${line.slice(0, 200)}...` : line;
}

/** A value's text, cut short for a one-line report. */
export function brief(v: RValue, max = 300): string {
  const s = formatValue(v);
  return s.length > max ? `${s.slice(0, max)}...` : s;
}
