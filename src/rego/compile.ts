/**
 * The compiler driver: Rego sources -> parse (R1's parser) -> plan (R1's planner) -> Wasm
 * (emit.ts). Every phase reports diagnostics instead of throwing, and a run reports all it
 * finds: each file is parsed even after another failed.
 */
import { PgwardenError } from '../errors.js';
import type * as ast from './ast.js';
import {
  diagnostic,
  formatDiagnostic,
  hasErrors,
  sortDiagnostics,
  type Diagnostic,
} from './diagnostics.js';
import { hostBuiltinArity } from './builtins/index.js';
import { supportedBuiltins } from './emit-builtins.js';
import { emitPolicy } from './emit.js';
import type * as ir from './ir.js';
import { parseModule } from './parser.js';
import { planPolicy } from './planner.js';
import { BUILTIN_ARITY } from './check-builtins.js';

/** Compilation failed; `diagnostics` holds every problem found (file, line, column). */
export class RegoCompileError extends PgwardenError {
  readonly diagnostics: Diagnostic[];

  constructor(diagnostics: Diagnostic[]) {
    const errors = diagnostics.filter((d) => d.severity === 'error');
    const lines = errors.map(formatDiagnostic).join('\n');
    super('ERR_REGO_COMPILE', `${errors.length} compile error(s):\n${lines}`);
    this.name = 'RegoCompileError';
    this.diagnostics = diagnostics;
  }
}

/** One Rego source file. */
export interface RegoSource {
  file: string;
  text: string;
}

/** Options of {@link compileRego}. */
export interface CompileOptions {
  /** Entrypoint paths such as `pgwarden/decision`; each becomes an entrypoint of the module. */
  entrypoints: string[];
  /** Accept Rego v0 syntax (OPA's `--v0-compatible`). */
  v0Compatible?: boolean;
  /** Accepted for compatibility and ignored: generated code is emitted in final form. */
  optimize?: boolean;
  /** Validate the finished module with the engine (default false; costs time). */
  validate?: boolean;
  /** OPA's strict builtin errors: a failing builtin aborts evaluation with an error. */
  strictBuiltinErrors?: boolean;
}

/** What {@link compileRego} produced; `wasm` is set exactly when `ok`. */
export interface CompileResult {
  ok: boolean;
  wasm?: Uint8Array;
  entrypoints: Record<string, number>;
  diagnostics: Diagnostic[];
  /** The planned policy (for tests and debugging), when planning succeeded. */
  policy?: ir.Policy;
}

/** The builtins the planner may accept: those the frontend knows and code generation runs. */
function plannableBuiltins(): Record<string, number> {
  const supported = supportedBuiltins();
  const out: Record<string, number> = {};
  for (const [name, arity] of Object.entries(BUILTIN_ARITY)) {
    // walk is planned as internal.walk plus a scan (planner-calls.ts).
    if (supported.has(name) || ['print', 'eq', 'assign', 'walk'].includes(name)) {
      out[name] = arity;
    }
  }
  // Host builtins the frontend's table does not list yet, with their declared arity.
  for (const name of supported) {
    const arity = hostBuiltinArity(name);
    if (out[name] === undefined && arity !== undefined) out[name] = arity;
  }
  return out;
}

/** Finds calls of builtins code generation cannot run, with their positions. */
function unsupportedCalls(policy: ir.Policy): Diagnostic[] {
  const supported = supportedBuiltins();
  const planned = new Set(policy.funcs.map((f) => f.name));
  const out: Diagnostic[] = [];
  const seen = new Set<string>();
  const visit = (blocks: ir.Block[]): void => {
    for (const b of blocks) {
      for (const s of b.stmts) {
        if (s.type === 'CallStmt' && !planned.has(s.func) && !supported.has(s.func)) {
          const file = s.loc ? (policy.static.files[s.loc.file] ?? '') : '';
          const key = `${s.func}@${file}:${s.loc?.row ?? 0}`;
          if (!seen.has(key)) {
            seen.add(key);
            out.push(
              diagnostic(
                { file, line: s.loc?.row ?? 1, col: s.loc?.col ?? 1 },
                'rego_not_supported',
                `builtin ${s.func} is not supported by pgwarden's compiler`,
              ),
            );
          }
        }
        if (s.type === 'ScanStmt' || s.type === 'NotStmt' || s.type === 'WithStmt') {
          visit([s.block]);
        } else if (s.type === 'BlockStmt') {
          visit(s.blocks);
        }
      }
    }
  };
  for (const f of policy.funcs) visit(f.blocks);
  for (const p of policy.plans) visit(p.blocks);
  return out;
}

/** Compiles Rego sources into a Wasm module with OPA's ABI. */
export function compileRego(sources: RegoSource[], options: CompileOptions): CompileResult {
  const diagnostics: Diagnostic[] = [];
  const modules: ast.Module[] = [];
  for (const src of sources) {
    const parsed = parseModule(src.text, src.file, { v0: options.v0Compatible === true });
    diagnostics.push(...parsed.diagnostics);
    if (parsed.module) modules.push(parsed.module);
  }
  if (hasErrors(diagnostics)) return fail(diagnostics);

  let planned: ReturnType<typeof planPolicy>;
  try {
    planned = planPolicy(modules, {
      entrypoints: options.entrypoints,
      builtins: plannableBuiltins(),
    });
  } catch (err) {
    // A planner bug must not take the caller down: report it like any other compile error.
    const message = err instanceof Error ? err.message : String(err);
    const where = { file: sources[0]?.file ?? '', line: 1, col: 1 };
    diagnostics.push(diagnostic(where, 'rego_compile_error', `internal planner error: ${message}`));
    return fail(diagnostics);
  }
  diagnostics.push(...planned.diagnostics);
  if (!planned.policy || hasErrors(diagnostics)) return fail(diagnostics);
  const policy = planned.policy;

  const unsupported = unsupportedCalls(policy);
  if (unsupported.length > 0) return fail([...diagnostics, ...unsupported], policy);

  try {
    const out = emitPolicy(policy, {
      optimize: options.optimize !== false,
      validate: options.validate === true,
      strictBuiltinErrors: options.strictBuiltinErrors === true,
    });
    return {
      ok: true,
      wasm: out.wasm,
      entrypoints: out.entrypoints,
      diagnostics: sortDiagnostics(diagnostics),
      policy,
    };
  } catch (err) {
    const where = sources[0]?.file ?? '';
    const message = err instanceof Error ? err.message : String(err);
    diagnostics.push(
      diagnostic(
        { file: where, line: 1, col: 1 },
        'rego_compile_error',
        `code generation: ${message}`,
      ),
    );
    return fail(diagnostics, policy);
  }
}

function fail(diagnostics: Diagnostic[], policy?: ir.Policy): CompileResult {
  return {
    ok: false,
    entrypoints: {},
    diagnostics: sortDiagnostics(diagnostics),
    ...(policy ? { policy } : {}),
  };
}
