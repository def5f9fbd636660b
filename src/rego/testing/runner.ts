/**
 * `opa test` semantics on the compiled WebAssembly: every rule named `test_*` (without
 * arguments) is a test, `todo_*` rules are reported as skipped; all tests of all files are
 * entrypoints of ONE module, built by the project's compiler and run through
 * `@open-policy-agent/opa-wasm` exactly as the gateway runs policies. A test passes when its
 * rule is `true`, fails when it is undefined or any other value, and errors when evaluation
 * raises (a conflict, a strict builtin error, an abort).
 */
import type { Module } from '../ast.js';
import type { Diagnostic } from '../diagnostics.js';
import type { Toolchain } from '../conformance/execute.js';
import { discover, type SourceFile } from './discover.js';
import { abortMessage, resultValues } from './evaluate.js';
import { formatValue, toJsonText } from './value.js';

/** The toolchain pieces the test runner needs (the conformance ones plus the parser). */
export interface TestToolchain extends Toolchain {
  parseModule(
    text: string,
    file: string,
    options?: { v0?: boolean },
  ): { module?: Module; diagnostics: Diagnostic[] };
}

/** Options of {@link runTests}. */
export interface TestOptions {
  /** Only tests whose full name (`data.pkg.test_x`) matches. */
  run?: RegExp;
  /** Parse modules as Rego v0 (`import rego.v1` still opts a module into v1). */
  v0Compatible?: boolean;
}

/** How one test ended. */
export type TestStatus = 'PASS' | 'FAIL' | 'ERROR' | 'SKIP';

/** One test's outcome. */
export interface TestResult {
  readonly file: string;
  readonly line: number;
  /** `data.a.b`. */
  readonly package: string;
  readonly name: string;
  readonly status: TestStatus;
  readonly durationNs: number;
  /** The error message (ERROR) or why it failed (FAIL). */
  readonly message?: string;
  /** What `print` wrote during the test. */
  readonly output: readonly string[];
}

/** The run: results, or the diagnostics that stopped compilation. */
export interface TestReport {
  readonly results: TestResult[];
  readonly diagnostics: Diagnostic[];
}

interface TestRule {
  file: string;
  line: number;
  pkg: string;
  name: string;
  entrypoint: string;
}

/** Finds, compiles and runs the tests under `paths`. */
export async function runTests(
  paths: readonly string[],
  tools: TestToolchain,
  options: TestOptions = {},
): Promise<TestReport> {
  const { sources, data } = await discover(paths);
  const found = findTests(sources, tools, options);
  if (found.diagnostics.length > 0) return { results: [], diagnostics: found.diagnostics };
  const selected = found.tests.filter(
    (t) => !options.run || options.run.test(`${t.pkg}.${t.name}`),
  );
  const runnable = selected.filter((t) => t.name.startsWith('test_'));
  const results: TestResult[] = [];
  // As `opa test` does, the modules are compiled even when no test is selected, so a compile
  // error (recursion, an unsafe variable) fails the run instead of passing as "no tests".
  const compiled = tools.compile(
    sources.map((s) => ({ file: s.file, text: s.text })),
    {
      entrypoints: runnable.map((t) => t.entrypoint),
      v0Compatible: options.v0Compatible === true,
    },
  );
  if (!compiled.ok || !compiled.wasm) {
    return {
      results: [],
      diagnostics: compiled.diagnostics.filter((d) => d.severity === 'error'),
    };
  }
  if (runnable.length > 0) {
    const evaluator = await tools.load(compiled.wasm);
    evaluator.setData(toJsonText(data));
    for (const t of runnable) results.push(runOne(t, evaluator));
  }
  for (const t of selected.filter((x) => x.name.startsWith('todo_'))) {
    results.push({ ...base(t), status: 'SKIP', durationNs: 0, output: [] });
  }
  results.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : a.line - b.line));
  return { results, diagnostics: [] };
}

function base(t: TestRule): Pick<TestResult, 'file' | 'line' | 'package' | 'name'> {
  return { file: t.file, line: t.line, package: t.pkg, name: t.name };
}

function findTests(
  sources: readonly SourceFile[],
  tools: TestToolchain,
  options: TestOptions,
): { tests: TestRule[]; diagnostics: Diagnostic[] } {
  const tests = new Map<string, TestRule>();
  const diagnostics: Diagnostic[] = [];
  for (const src of sources) {
    const parsed = tools.parseModule(src.text, src.file, { v0: options.v0Compatible === true });
    diagnostics.push(...parsed.diagnostics.filter((d) => d.severity === 'error'));
    const mod = parsed.module;
    if (!mod) continue;
    const pkg = ['data', ...mod.package.path].join('.');
    for (const rule of mod.rules) {
      const name = rule.head.ref[0].name;
      if (rule.head.ref.length !== 1 || rule.head.args || rule.kind !== 'complete') continue;
      if (!name.startsWith('test_') && !name.startsWith('todo_')) continue;
      // A test written in several bodies is one rule, hence one test (as in OPA).
      const key = `${pkg}.${name}`;
      if (tests.has(key)) continue;
      tests.set(key, {
        file: src.file,
        line: rule.loc.line,
        pkg,
        name,
        entrypoint: [...mod.package.path, name].join('/'),
      });
    }
  }
  return { tests: [...tests.values()], diagnostics };
}

function runOne(t: TestRule, evaluator: Awaited<ReturnType<Toolchain['load']>>): TestResult {
  const output: string[] = [];
  const started = process.hrtime.bigint();
  let status: TestStatus;
  let message: string | undefined;
  const restore = capturePrints(output);
  try {
    const values = resultValues(evaluator.evaluate(t.entrypoint, undefined));
    const v = values[0];
    if (v?.t === 'bool' && v.v) status = 'PASS';
    else {
      status = 'FAIL';
      message = v === undefined ? 'undefined' : `value ${formatValue(v)}`;
    }
  } catch (err) {
    status = 'ERROR';
    message = abortMessage(err);
  } finally {
    restore();
  }
  const durationNs = Number(process.hrtime.bigint() - started);
  return { ...base(t), status, durationNs, ...(message ? { message } : {}), output };
}

/**
 * The SDK hands `print` output (`opa_println`) to `console.log`; while a test runs it is
 * collected into the test's result instead, so the report decides what to show.
 */
function capturePrints(into: string[]): () => void {
  // eslint-disable-next-line no-console
  const original = console.log;
  // eslint-disable-next-line no-console
  console.log = (...args: unknown[]) => {
    into.push(args.map(String).join(' '));
  };
  return () => {
    // eslint-disable-next-line no-console
    console.log = original;
  };
}
