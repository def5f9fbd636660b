/**
 * Host builtins: Rego builtins that compiled policies call in JavaScript through OPA's
 * `opa_builtinN` imports. Arguments arrive as JSON values (sets arrive as arrays), and the
 * result goes back as JSON; returning `undefined` makes the call undefined, as a builtin error
 * does in OPA's non-strict mode.
 */
import { arith } from './arith.js';
import { builtinError } from './errors.js';
import { ENCODING_BUILTINS } from './encoding.js';
import { JSON_BUILTINS } from './json.js';
import { VALUE_TEXT_BUILTINS, valueTextWireName } from './json-values.js';
import { MISC_BUILTINS } from './misc.js';
import { NET_BUILTINS } from './net.js';
import { REGEX_BUILTINS } from './regex.js';
import { STRING_BUILTINS } from './strings.js';
import { TIME_BUILTINS, TIME_INTERNAL } from './time.js';
import type { HostBuiltin } from './types.js';

export type { HostBuiltin } from './types.js';

/** Every host builtin by its Rego name. */
export const HOST_BUILTINS: Readonly<Record<string, HostBuiltin>> = {
  ...STRING_BUILTINS,
  ...REGEX_BUILTINS,
  ...TIME_BUILTINS,
  ...ENCODING_BUILTINS,
  ...JSON_BUILTINS,
  ...NET_BUILTINS,
  ...MISC_BUILTINS,
};

/**
 * The SDK resolves a builtin name against its own small JavaScript set first (`sprintf` via
 * sprintf-js, `regex.split` via JavaScript RegExp), which differ from OPA's Go semantics. The
 * module therefore asks for these under a private name so our implementation always runs.
 */
const SHADOWED_BY_SDK = new Set(['sprintf', 'regex.split']);

/** The name a module uses for a host builtin in its `builtins()` map. */
export function hostBuiltinWireName(name: string): string {
  return SHADOWED_BY_SDK.has(name) ? `pgwarden.${name}` : name;
}

/** Wire name of the internal exact-arithmetic builtin every module registers. */
export const ARITH_BUILTIN = 'pgwarden.numbers.arith';

/** Wire name of the internal builtin that words strict builtin errors as OPA does. */
export const ERROR_BUILTIN = 'pgwarden.builtin_error';

/** Number of arguments of a host builtin (its declared parameters). */
export function hostBuiltinArity(name: string): number | undefined {
  const fn = HOST_BUILTINS[name];
  return fn === undefined ? undefined : fn.length;
}

/** The map to pass as `customBuiltins` to opa-wasm's `loadPolicy`. */
export function hostBuiltins(): Record<string, HostBuiltin> {
  const out: Record<string, HostBuiltin> = {};
  for (const [name, fn] of Object.entries(HOST_BUILTINS)) out[hostBuiltinWireName(name)] = fn;
  for (const [name, fn] of Object.entries(TIME_INTERNAL)) out[name] = fn;
  for (const [name, fn] of Object.entries(VALUE_TEXT_BUILTINS)) out[valueTextWireName(name)] = fn;
  out[ARITH_BUILTIN] = arith;
  out[ERROR_BUILTIN] = builtinError;
  return out;
}
