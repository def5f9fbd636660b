/**
 * Host builtins: Rego builtins that compiled policies call in JavaScript through OPA's
 * `opa_builtinN` imports. Arguments arrive as JSON values (sets arrive as arrays), and the
 * result goes back as JSON; returning `undefined` makes the call undefined, as a builtin error
 * does in OPA's non-strict mode.
 */
import { ENCODING_BUILTINS } from './encoding.js';
import { MISC_BUILTINS } from './misc.js';
import { NET_BUILTINS } from './net.js';
import { REGEX_BUILTINS } from './regex.js';
import { STRING_BUILTINS } from './strings.js';
import { TIME_BUILTINS } from './time.js';
import type { HostBuiltin } from './types.js';

export type { HostBuiltin } from './types.js';

/** Every host builtin by its Rego name. */
export const HOST_BUILTINS: Readonly<Record<string, HostBuiltin>> = {
  ...STRING_BUILTINS,
  ...REGEX_BUILTINS,
  ...TIME_BUILTINS,
  ...ENCODING_BUILTINS,
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

/** The map to pass as `customBuiltins` to opa-wasm's `loadPolicy`. */
export function hostBuiltins(): Record<string, HostBuiltin> {
  const out: Record<string, HostBuiltin> = {};
  for (const [name, fn] of Object.entries(HOST_BUILTINS)) out[hostBuiltinWireName(name)] = fn;
  return out;
}
