/**
 * Compiler diagnostics. Every phase (parser, checks, planner) reports problems as
 * `Diagnostic` values instead of throwing, so one run can report every error it finds.
 */

/** Where a diagnostic applies: 1-based line and column in `file`. */
export interface SourcePosition {
  file: string;
  line: number;
  col: number;
}

/**
 * Stable diagnostic codes, named after OPA's error codes so that tests and users coming
 * from OPA recognise them.
 */
export type DiagnosticCode =
  | 'rego_parse_error'
  | 'rego_compile_error'
  | 'rego_unsafe_var_error'
  | 'rego_recursion_error'
  | 'rego_type_error'
  | 'rego_not_supported';

/** One problem found in the sources. */
export interface Diagnostic extends SourcePosition {
  code: DiagnosticCode;
  message: string;
  severity: 'error' | 'warning';
}

/** Build an error diagnostic at a position. */
export function diagnostic(
  pos: SourcePosition,
  code: DiagnosticCode,
  message: string,
  severity: 'error' | 'warning' = 'error',
): Diagnostic {
  return { file: pos.file, line: pos.line, col: pos.col, code, message, severity };
}

/**
 * Render a diagnostic the way OPA prints errors: `file:line:col: code: message`, or
 * `code: message` for one that belongs to no file (an entrypoint no rule answers).
 */
export function formatDiagnostic(d: Diagnostic): string {
  if (d.file === '') return `${d.code}: ${d.message}`;
  return `${d.file}:${d.line}:${d.col}: ${d.code}: ${d.message}`;
}

/** True when any diagnostic in the list is an error (warnings do not stop compilation). */
export function hasErrors(diags: readonly Diagnostic[]): boolean {
  return diags.some((d) => d.severity === 'error');
}

/** Sort diagnostics by file, line and column, for stable output. */
export function sortDiagnostics(diags: Diagnostic[]): Diagnostic[] {
  return diags.sort(
    (a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0) || a.line - b.line || a.col - b.col,
  );
}
