/**
 * The project's real compiler and loader, bound to the small interface the test runner and the
 * conformance runner use. They are imported lazily: the runners must still start (and report
 * every case as failed, with the reason) when a compiler phase does not load.
 */
import { PgwardenError } from '../../errors.js';
import type { Body } from '../ast.js';
import type { Diagnostic } from '../diagnostics.js';
import type { CompileOptions, CompileOutput, Evaluator } from '../conformance/execute.js';
import type { TestToolchain } from './runner.js';
import { evaluateRaw, setDataText, type ResultMode } from './evaluate.js';

/** R2's `compileRego`. */
type CompileRego = (
  sources: Array<{ file: string; text: string }>,
  options: CompileOptions,
) => CompileOutput;

/** R2's `loadCompiledPolicy`: resolves to an `@open-policy-agent/opa-wasm` LoadedPolicy. */
type LoadCompiledPolicy = (wasm: Uint8Array, data?: unknown) => Promise<LoadedLike>;

/** R1's `parseQuery`. */
type ParseQuery = (
  text: string,
  file: string,
) => { body?: Body; query?: Body; diagnostics: Diagnostic[] };

type LoadedLike = Parameters<typeof evaluateRaw>[0] & { setData(data: object | ArrayBuffer): void };

// Specifiers in variables keep the type checker from requiring the files while they are being
// written; the contracts above are the agreed signatures.
const COMPILE_MODULE = '../compile.js';
const LOAD_MODULE = '../load.js';
const PARSER_MODULE = '../parser.js';

/** R1's `parseModule`. */
type ParseModule = TestToolchain['parseModule'];

/** Loads the real toolchain; throws `ERR_NOT_SUPPORTED` naming the piece that is missing. */
export async function loadToolchain(mode: ResultMode = 'json'): Promise<TestToolchain> {
  const compileMod = await importPiece<{ compileRego?: CompileRego }>(COMPILE_MODULE);
  const loadMod = await importPiece<{ loadCompiledPolicy?: LoadCompiledPolicy }>(LOAD_MODULE);
  const compileRego = compileMod.compileRego;
  const loadCompiledPolicy = loadMod.loadCompiledPolicy;
  if (!compileRego || !loadCompiledPolicy) {
    throw new PgwardenError(
      'ERR_NOT_SUPPORTED',
      'compileRego or loadCompiledPolicy is not exported',
    );
  }
  const parser = await importPiece<{ parseQuery?: ParseQuery; parseModule?: ParseModule }>(
    PARSER_MODULE,
  );
  const { parseQuery, parseModule } = parser;
  if (!parseModule) throw new PgwardenError('ERR_NOT_SUPPORTED', 'parseModule is not exported');
  return {
    parseModule: (text, file, options) => parseModule(text, file, options),
    compile: (sources, options) => compileRego(sources, options),
    load: async (wasm) => evaluatorFor(await loadCompiledPolicy(wasm), mode),
    ...(parseQuery ? { parseQuery: queryParser(parseQuery) } : {}),
  };
}

/** Wraps an SDK-loaded policy as an {@link Evaluator}. */
export function evaluatorFor(policy: LoadedLike, mode: ResultMode): Evaluator {
  return {
    setData: (json) => setDataText(policy, json),
    evaluate: (entrypoint, input) => evaluateRaw(policy, entrypoint, input, mode),
  };
}

function queryParser(parse: ParseQuery): (text: string) => Body | undefined {
  return (text) => {
    try {
      const out = parse(text, '<query>');
      if (out.diagnostics.some((d) => d.severity === 'error')) return undefined;
      return out.body ?? out.query;
    } catch {
      return undefined;
    }
  };
}

async function importPiece<T>(specifier: string): Promise<T> {
  try {
    return (await import(specifier)) as T;
  } catch (err) {
    throw new PgwardenError(
      'ERR_NOT_SUPPORTED',
      `cannot load ${specifier.slice(3)}: ${String(err)}`,
      {
        cause: err,
      },
    );
  }
}
