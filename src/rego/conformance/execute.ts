/**
 * Runs one conformance case: compile its modules plus the generated query module, load the
 * Wasm, evaluate once per input, and judge the outcome. The compiler and loader come in as a
 * {@link Toolchain}, so the harness is tested with small fakes and runs the real compiler in
 * the CLI.
 */
import type { Diagnostic } from '../diagnostics.js';
import { formatDiagnostic } from '../diagnostics.js';
import { resultValues } from '../testing/evaluate.js';
import { abortMessage } from '../testing/evaluate.js';
import { toJsonText, type RValue } from '../testing/value.js';
import type { CaseResult, ConformanceCase } from './cases.js';
import { judge, type JudgeOptions, type Outcome } from './compare.js';
import { buildQueryModule, QUERY_ENTRYPOINT, QUERY_FILE, type QueryParser } from './query.js';

/** What the compiler returns (R2's `compileRego`). */
export interface CompileOutput {
  ok: boolean;
  wasm?: Uint8Array;
  diagnostics: Diagnostic[];
}

/** Options passed to the compiler. `strictBuiltinErrors` is honoured when the compiler can. */
export interface CompileOptions {
  entrypoints: string[];
  v0Compatible?: boolean;
  strictBuiltinErrors?: boolean;
}

/** A loaded module that evaluates one entrypoint into a result set value. */
export interface Evaluator {
  /** Replaces base data (JSON text). */
  setData(json: string): void;
  /** The result set (`[{"result": v}]`, or a set in value mode) for one input (JSON text). */
  evaluate(entrypoint: string, input: string | undefined): RValue;
}

/** The compiler, the loader and, optionally, the query parser. */
export interface Toolchain {
  compile(sources: Array<{ file: string; text: string }>, options: CompileOptions): CompileOutput;
  load(wasm: Uint8Array): Promise<Evaluator>;
  parseQuery?: QueryParser;
}

/** Runs one case to a result; never throws (harness failures become failed cases). */
export async function runCase(
  c: ConformanceCase,
  tools: Toolchain,
  options: JudgeOptions = {},
): Promise<CaseResult> {
  const started = performance.now();
  const done = (status: CaseResult['status'], extra: Partial<CaseResult> = {}): CaseResult => ({
    id: c.id,
    category: c.category,
    note: c.note,
    status,
    durationMs: Math.round((performance.now() - started) * 10) / 10,
    ...extra,
  });
  if (c.skip) return done('skip', { reason: c.skip });
  try {
    const outcome = await produce(c, tools);
    if (outcome.kind === 'load_error') {
      return done('fail', { cause: 'load_error', reason: `load error: ${outcome.message}` });
    }
    const verdict = judge(c.expect, outcome, options);
    if (verdict === undefined) return done('pass', c.unchecked ? { remark: c.unchecked } : {});
    return 'remark' in verdict ? done('pass', verdict) : done('fail', verdict);
  } catch (err) {
    return done('fail', { cause: 'harness_error', reason: `harness error: ${abortMessage(err)}` });
  }
}

async function produce(
  c: ConformanceCase,
  tools: Toolchain,
): Promise<Outcome | { kind: 'load_error'; message: string }> {
  const termInput = c.inputs.find((i) => i.kind === 'term');
  const plan = buildQueryModule(c.query, {
    valueWhenNoVars: c.suite === 'regorus',
    ...(termInput?.kind === 'term' ? { inputTerm: termInput.value } : {}),
    dataRoots: dataRoots(c),
    ...(tools.parseQuery ? { parse: tools.parseQuery } : {}),
  });
  // OPA's runner names modules test-<i>.rego (its messages carry that prefix); regorus rego_<i>.
  const sources = c.modules.map((text, i) => ({
    file: c.suite === 'opa' ? `test-${i}.rego` : `rego_${i}.rego`,
    text,
  }));
  sources.push({ file: QUERY_FILE, text: plan.module });
  const compiled = tools.compile(sources, {
    entrypoints: [QUERY_ENTRYPOINT],
    v0Compatible: c.v0,
    strictBuiltinErrors: c.strict,
  });
  const errors = compiled.diagnostics.filter((d) => d.severity === 'error');
  if (!compiled.ok || !compiled.wasm) {
    // OPA compiles the modules before the query, so errors in the case's own modules are the
    // ones it reports; the generated query module's errors count only when they are alone.
    const own = errors.filter((d) => d.file !== QUERY_FILE);
    const messages = (own.length > 0 ? own : errors).map(formatDiagnostic);
    return { kind: 'compile_error', messages: messages.length > 0 ? messages : ['compile failed'] };
  }
  let evaluator: Evaluator;
  try {
    evaluator = await tools.load(compiled.wasm);
    if (c.data) evaluator.setData(toJsonText(c.data));
  } catch (err) {
    return { kind: 'load_error', message: abortMessage(err) };
  }
  const perInput: RValue[][] = [];
  for (const input of c.inputs) {
    const inputText = input.kind === 'value' ? toJsonText(input.value) : undefined;
    let resultSet: RValue;
    try {
      resultSet = evaluator.evaluate(QUERY_ENTRYPOINT, inputText);
    } catch (err) {
      return { kind: 'eval_error', message: abortMessage(err) };
    }
    perInput.push(solutions(resultSet, termInput !== undefined));
  }
  return { kind: 'results', perInput, shape: plan.shape };
}

/** The solutions inside the result set of `results` (unwrapping the `with input` form). */
function solutions(resultSet: RValue, wrapped: boolean): RValue[] {
  const [results] = resultValues(resultSet);
  if (results === undefined) return [];
  const inner = wrapped && (results.t === 'arr' || results.t === 'set') ? results.v[0] : results;
  if (inner === undefined) return [];
  if (inner.t !== 'arr' && inner.t !== 'set') {
    throw new Error(`results is a ${inner.t}, not an array`);
  }
  return [...inner.v];
}

/** Top-level names of `data`: base document keys and each module's first package segment. */
function dataRoots(c: ConformanceCase): string[] {
  const roots = new Set<string>();
  if (c.data?.t === 'obj') {
    for (const [k] of c.data.v) if (k.t === 'str') roots.add(k.v);
  }
  for (const m of c.modules) {
    const pkg = /^\s*package\s+([A-Za-z_]\w*)/m.exec(m);
    if (pkg?.[1]) roots.add(pkg[1]);
  }
  return [...roots];
}
