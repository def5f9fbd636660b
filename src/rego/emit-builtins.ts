/**
 * Which builtins run inside the module (the AssemblyScript runtime's `rt_*` functions) and
 * which run in JavaScript through `opa_builtinN` (src/rego/builtins). A builtin in neither list
 * is reported by the compiler as unsupported, never discovered at evaluation time.
 */
import { HOST_BUILTINS, hostBuiltinWireName } from './builtins/index.js';
import { VALUE_TEXT_BUILTINS, valueTextWireName } from './builtins/json-values.js';

/** Builtin name -> runtime export implementing it (arguments in order, value pointers). */
export const RUNTIME_BUILTINS: Readonly<Record<string, string>> = {
  equal: 'rt_equal',
  neq: 'rt_neq',
  lt: 'rt_lt',
  lte: 'rt_lte',
  gt: 'rt_gt',
  gte: 'rt_gte',
  plus: 'rt_plus',
  minus: 'rt_minus',
  mul: 'rt_mul',
  div: 'rt_div',
  rem: 'rt_rem',
  and: 'rt_and',
  or: 'rt_or',
  abs: 'rt_abs',
  round: 'rt_round',
  ceil: 'rt_ceil',
  floor: 'rt_floor',
  count: 'rt_count',
  sum: 'rt_sum',
  product: 'rt_product',
  max: 'rt_max',
  min: 'rt_min',
  sort: 'rt_sort',
  is_number: 'rt_is_number',
  is_string: 'rt_is_string',
  is_boolean: 'rt_is_boolean',
  is_array: 'rt_is_array',
  is_set: 'rt_is_set',
  is_object: 'rt_is_object',
  is_null: 'rt_is_null',
  type_name: 'rt_type_name',
  to_number: 'rt_to_number',
  'numbers.range': 'rt_numbers_range',
  'internal.member_2': 'rt_member_2',
  'internal.member_3': 'rt_member_3',
  'internal.print': 'rt_print',
  // [path, value] pairs of a document; the planner scans them for walk(x, [path, value]).
  'internal.walk': 'rt_walk',
  concat: 'rt_concat',
  contains: 'rt_contains',
  startswith: 'rt_startswith',
  endswith: 'rt_endswith',
  lower: 'rt_lower',
  upper: 'rt_upper',
  split: 'rt_split',
  replace: 'rt_replace',
  trim: 'rt_trim',
  trim_left: 'rt_trim_left',
  trim_right: 'rt_trim_right',
  trim_prefix: 'rt_trim_prefix',
  trim_suffix: 'rt_trim_suffix',
  trim_space: 'rt_trim_space',
  indexof: 'rt_indexof',
  substring: 'rt_substring',
  format_int: 'rt_format_int',
  'strings.reverse': 'rt_strings_reverse',
  'object.get': 'rt_object_get',
  'object.keys': 'rt_object_keys',
  'object.remove': 'rt_object_remove',
  'object.filter': 'rt_object_filter',
  'object.union': 'rt_object_union',
  'object.subset': 'rt_object_subset',
  'array.concat': 'rt_array_concat',
  'array.slice': 'rt_array_slice',
  'array.reverse': 'rt_array_reverse',
  intersection: 'rt_intersection',
  union: 'rt_union',
};

/**
 * Runtime builtins that return undefined for inputs they leave to a host implementation
 * (lower/upper map ASCII in the module and hand other text to JavaScript's Unicode tables).
 */
const HOST_FALLBACK: Readonly<Record<string, string>> = { lower: 'lower', upper: 'upper' };

/**
 * Builtins whose undefined result is not an error even under strict builtin errors: max/min of
 * nothing, and json.patch of a patch that does not apply.
 */
export const MAY_BE_UNDEFINED = new Set(['max', 'min', 'json.patch']);

/**
 * Builtins that are undefined without an error, even under strict builtin errors, when their
 * operands have the right types: OPA's uuid.parse answers nothing for text that is not a UUID.
 * A wrong operand type is still an error (the host words it).
 */
export const UNDEFINED_UNLESS_TYPE_ERROR = new Set(['uuid.parse']);

/** How generated code reaches one builtin. */
export type BuiltinRoute =
  | { kind: 'runtime'; fn: string; fallback?: string }
  | { kind: 'host'; wireName: string }
  /** A host builtin that must see sets: Rego value text in and out (builtins/json-values). */
  | { kind: 'hostText'; wireName: string }
  | { kind: 'unsupported' };

/** Where the named builtin runs. */
export function routeBuiltin(name: string): BuiltinRoute {
  const fn = RUNTIME_BUILTINS[name];
  const fallback = HOST_FALLBACK[name];
  if (fn !== undefined) {
    return fallback
      ? { kind: 'runtime', fn, fallback: hostBuiltinWireName(fallback) }
      : { kind: 'runtime', fn };
  }
  if (Object.prototype.hasOwnProperty.call(VALUE_TEXT_BUILTINS, name)) {
    return { kind: 'hostText', wireName: valueTextWireName(name) };
  }
  if (Object.prototype.hasOwnProperty.call(HOST_BUILTINS, name)) {
    return { kind: 'host', wireName: hostBuiltinWireName(name) };
  }
  return { kind: 'unsupported' };
}

/** Every builtin name generated code can call (runtime and host). */
export function supportedBuiltins(): Set<string> {
  return new Set([...Object.keys(RUNTIME_BUILTINS), ...Object.keys(HOST_BUILTINS)]);
}
