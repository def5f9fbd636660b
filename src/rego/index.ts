/**
 * pgwarden's Rego toolchain: compile Rego to WebAssembly with OPA's ABI, load compiled modules
 * into OPA's SDK, build bundles, and run Rego tests. Other folders import only from here.
 */
export { compileRego, RegoCompileError } from './compile.js';
export type { CompileOptions, CompileResult, RegoSource } from './compile.js';
export { loadCompiledPolicy, evaluateText } from './load.js';
export type { LoadedPolicy } from './load.js';
export { buildBundle } from './bundle.js';
export type { BuildBundleOptions } from './bundle.js';
export { hostBuiltins, HOST_BUILTINS } from './builtins/index.js';
export type { HostBuiltin } from './builtins/index.js';
export { parseModule, parseQuery, parseTerm } from './parser.js';
export type { ParseOptions } from './parser.js';
export { planPolicy } from './planner.js';
export type { PlanOptions } from './planner.js';
export { printPolicy } from './planner-print.js';
export { formatDiagnostic, hasErrors } from './diagnostics.js';
export type { Diagnostic, DiagnosticCode } from './diagnostics.js';
export type * as RegoAst from './ast.js';
export type * as RegoIr from './ir.js';
export { runRegoTests } from './testing/command.js';
export type { TestCommandOptions } from './testing/command.js';
export { runTests } from './testing/runner.js';
export type { TestOptions, TestReport, TestResult, TestStatus } from './testing/runner.js';
