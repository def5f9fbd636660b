/**
 * What a function planner needs from the policy-wide planner: constants, builtins, the rule
 * index, the function names of rule sets and tree nodes, and the active `with` mocks.
 */

import type * as ast from './ast.js';
import type { Diagnostic } from './diagnostics.js';
import type * as ir from './ir.js';
import type { RuleIndex, RuleSet, TreeNode } from './rewrite-resolve.js';

/**
 * Replacements active under `with`: virtual documents replaced by data (their paths read base
 * data, which a WithStmt overrides) and functions replaced by another function or a value.
 */
export interface Mocks {
  /** Canonical description; '' when nothing is mocked. */
  id: string;
  /** Path keys (see pathKey) of data paths whose rules are replaced. */
  data: Set<string>;
  /** Function name (builtin name or `data.p.f`) -> replacement. */
  funcs: Map<string, FuncMock>;
}

/** A function replacement: another function (builtin or user) or a value kept in data. */
export type FuncMock =
  | { kind: 'builtin'; name: string }
  | { kind: 'user'; set: RuleSet }
  | { kind: 'value'; dataPath: string[] };

/** No mocks. */
export const NO_MOCKS: Mocks = { id: '', data: new Set(), funcs: new Map() };

/** Services of the policy planner used while planning one function. */
export interface PlanContext {
  index: RuleIndex;
  builtins: Readonly<Record<string, number>>;
  diags: Diagnostic[];
  /** Index of a string constant. */
  str(s: string): number;
  /** Index of a file name. */
  file(name: string): number;
  /** Record a builtin call. */
  useBuiltin(name: string, arity: number): void;
  /** Name of the function computing a rule set under the mocks (planned on demand). */
  setFunc(set: RuleSet, mocks: Mocks): string;
  /** Name of the function building a tree node's virtual+base document. */
  nodeFunc(node: TreeNode, mocks: Mocks): string;
  /** Record that the current owner depends on a rule set / node (recursion check). */
  depend(to: string): void;
  /** Arity of a call (builtin or user function), undefined when unknown. */
  callArity(t: ast.CallTerm): number | undefined;
  /** A fresh number for mock data paths. */
  nextMockId(): number;
}

/** Operand helpers. */
export const op = {
  local: (value: ir.Local): ir.Operand => ({ type: 'local', value }),
  bool: (value: boolean): ir.Operand => ({ type: 'bool', value }),
  str: (value: number): ir.Operand => ({ type: 'string_index', value }),
};
