/**
 * OPA's wording for builtin argument errors under strict builtin errors ("operand 1 must be one
 * of {array, object, set, string} but got null"). The module calls this only when a builtin has
 * already failed, passing the builtin's name, its operands' Rego type names and their values.
 */
import { VALUE_CHECKS } from './errors-specific.js';
import { parseRfc3339Ns } from './time.js';
import type { HostBuiltin } from './types.js';

/** Accepted types per operand, in OPA's order; `strings` means "array of strings" is checked. */
const SPECS: Readonly<Record<string, ReadonlyArray<readonly string[]>>> = {
  count: [['array', 'object', 'set', 'string']],
  sum: [['array', 'set']],
  product: [['array', 'set']],
  max: [['array', 'set']],
  min: [['array', 'set']],
  sort: [['array', 'set']],
  plus: [['number'], ['number']],
  mul: [['number'], ['number']],
  div: [['number'], ['number']],
  rem: [['number'], ['number']],
  abs: [['number']],
  round: [['number']],
  ceil: [['number']],
  floor: [['number']],
  'array.flatten': [['array']],
  'array.concat': [['array'], ['array']],
  'array.reverse': [['array']],
  'array.slice': [['array'], ['number'], ['number']],
  'object.keys': [['object']],
  'object.remove': [['object'], ['array', 'object', 'set']],
  'object.filter': [['object'], ['array', 'object', 'set']],
  'object.union': [['object'], ['object']],
  'object.get': [['object']],
  concat: [['string'], ['array', 'set']],
  contains: [['string'], ['string']],
  startswith: [['string'], ['string']],
  endswith: [['string'], ['string']],
  lower: [['string']],
  upper: [['string']],
  split: [['string'], ['string']],
  replace: [['string'], ['string'], ['string']],
  trim: [['string'], ['string']],
  trim_space: [['string']],
  indexof: [['string'], ['string']],
  substring: [['string'], ['number'], ['number']],
  'strings.split_n': [['string'], ['string'], ['number']],
  'strings.any_prefix_match': [
    ['string', 'set', 'array'],
    ['string', 'set', 'array'],
  ],
  'strings.any_suffix_match': [
    ['string', 'set', 'array'],
    ['string', 'set', 'array'],
  ],
  'time.parse_rfc3339_ns': [['string']],
  'uuid.parse': [['string']],
  to_number: [['null', 'boolean', 'number', 'string']],
};

function describe(types: readonly string[]): string {
  return types.length === 1 ? (types[0] ?? '') : `one of {${types.join(', ')}}`;
}

/** OPA's message for a failed call, or undefined when the operands look acceptable. */
export function builtinErrorMessage(
  name: string,
  types: string[],
  values: unknown[],
): string | undefined {
  const check = VALUE_CHECKS[name];
  if (check) return check(types, values);
  const spec = SPECS[name];
  if (spec) {
    for (let i = 0; i < spec.length; i++) {
      const want = spec[i] ?? [];
      const got = types[i];
      if (got === undefined) continue;
      if (!want.includes(got)) return `operand ${i + 1} must be ${describe(want)} but got ${got}`;
      const v = values[i];
      if (name.startsWith('strings.any_') && Array.isArray(v)) {
        const bad = v.find((x) => typeof x !== 'string');
        if (bad !== undefined) {
          const got = `array containing ${typeOf(bad)}`;
          return `operand ${i + 1} must be array of strings but got ${got}`;
        }
      }
      if (name === 'strings.split_n' && i === 2 && !Number.isInteger(v)) {
        return 'operand 3 must be integer number but got floating-point number';
      }
      if (name === 'array.slice' && i > 0 && !Number.isInteger(v)) {
        return `operand ${i + 1} must be integer number but got floating-point number`;
      }
    }
  }
  if (name === 'minus' && types.length === 2) {
    const [a, b] = types;
    if (a === 'number' && b !== 'number') return `operand 2 must be number but got ${b}`;
    if (a === 'set' && b !== 'set') return `operand 2 must be set but got ${b}`;
    return `operand 1 must be one of {number, set} but got ${a}`;
  }
  if (name === 'to_number') return 'invalid syntax';
  if (name === 'indexof' && values[1] === '') return 'empty search character';
  if (name === 'time.parse_rfc3339_ns' && typeof values[0] === 'string') {
    return parseRfc3339Ns(values[0]) === undefined && /^\d{4,}-/.test(values[0])
      ? 'time outside of valid range'
      : `cannot parse ${JSON.stringify(values[0])} as RFC 3339`;
  }
  return undefined;
}

function typeOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v === 'object' ? 'object' : typeof v;
}

/** Internal builtin: the error message for a failed builtin call (a string), or undefined. */
export const builtinError: HostBuiltin = (name, types, values) => {
  if (typeof name !== 'string' || !Array.isArray(types) || !Array.isArray(values)) return undefined;
  return builtinErrorMessage(name, types as string[], values);
};
