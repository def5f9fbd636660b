/** Compiles Rego in tests and evaluates it through opa-wasm with pgwarden's host builtins. */
import { expect } from 'vitest';
import { compileRego } from '../../../src/rego/compile.js';
import { loadCompiledPolicy, type LoadedPolicy } from '../../../src/rego/load.js';

/** Compiles one module (validated) and loads it with `data`; fails the test on diagnostics. */
export async function compileAndLoad(
  text: string,
  entrypoints: string[],
  data?: unknown,
): Promise<LoadedPolicy> {
  const r = compileRego([{ file: 'test.rego', text }], { entrypoints, validate: true });
  expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  expect(r.ok).toBe(true);
  return loadCompiledPolicy(r.wasm as Uint8Array, data);
}

/** The value of an entrypoint, or undefined when its result set is empty. */
export function value(policy: LoadedPolicy, entrypoint: string, input?: unknown): unknown {
  const rs = policy.evaluate(input, entrypoint) as Array<{ result: unknown }>;
  return rs.length === 0 ? undefined : rs[0]?.result;
}
