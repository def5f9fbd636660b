/**
 * The conformance case model shared by the loader, the executor and the report. Both upstream
 * schemas (OPA's `v1/test/cases` and regorus' `tests/interpreter/cases`) are read into this one
 * shape, so execution and comparison do not care where a case came from.
 */
import type { RValue } from '../testing/value.js';

/** Which upstream schema a case file follows. */
export type Suite = 'opa' | 'regorus';

/** One evaluation input: none, a JSON-able value, or a Rego term (may hold sets). */
export type CaseInput =
  | { readonly kind: 'none' }
  | { readonly kind: 'value'; readonly value: RValue }
  | { readonly kind: 'term'; readonly text: string; readonly value: RValue };

/** What a case expects. */
export type Expectation =
  /** OPA: rows of bindings (`[]` = undefined); lists in bindings sorted when `sortBindings`. */
  | { readonly kind: 'rows'; readonly rows: readonly RValue[]; readonly sortBindings: boolean }
  /** regorus: one value per input (bindings object, or the expression value). */
  | { readonly kind: 'values'; readonly values: readonly RValue[] }
  /**
   * An error: message substring and/or OPA error code (`eval_conflict_error`, ...). When
   * `wordingOwn` is set the message is the upstream implementation's own wording (regorus),
   * which another implementation need not share: by default any error then matches, and the
   * result records the difference.
   */
  | {
      readonly kind: 'error';
      readonly message?: string;
      readonly code?: string;
      readonly wordingOwn?: boolean;
    }
  /** regorus `no_result: true`: evaluation succeeds; the result is not checked. */
  | { readonly kind: 'success' };

/** One conformance case, independent of its schema. */
export interface ConformanceCase {
  /** `<file relative to the root given>#<index>`: unique and stable. */
  readonly id: string;
  readonly suite: Suite;
  /** `opa/<category>` or `regorus/<folder>`. */
  readonly category: string;
  readonly file: string;
  readonly index: number;
  readonly note: string;
  readonly query: string;
  readonly modules: readonly string[];
  /** Parse modules as Rego v0 (regorus' default; `import rego.v1` opts a module into v1). */
  readonly v0: boolean;
  readonly data?: RValue;
  /** One evaluation per input (regorus `many!` gives several). */
  readonly inputs: readonly CaseInput[];
  readonly expect: Expectation;
  /** Built-in errors raise instead of making the expression undefined. */
  readonly strict: boolean;
  /** Why the case is not run, when it is not. */
  readonly skip?: string;
  /** Parts of the expectation the harness does not check (said on the result). */
  readonly unchecked?: string;
}

/** How one case ended. */
export type CaseStatus = 'pass' | 'fail' | 'skip';

/** The outcome of one case. */
export interface CaseResult {
  readonly id: string;
  readonly category: string;
  readonly note: string;
  readonly status: CaseStatus;
  /** Why it failed or was skipped; absent on a pass. */
  readonly reason?: string;
  /** The broad cause of a failure, for grouping in reports. */
  readonly cause?: FailureCause;
  /** On a pass: what differed but was accepted (an error's wording). */
  readonly remark?: string;
  readonly durationMs: number;
}

/** Broad failure causes, so a report can say where the gaps are. */
export type FailureCause =
  | 'compile_error'
  | 'load_error'
  | 'eval_error'
  | 'wrong_result'
  | 'missing_error'
  | 'wrong_error'
  | 'timeout'
  | 'crash'
  | 'harness_error';
