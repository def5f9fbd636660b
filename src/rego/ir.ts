/**
 * The planned intermediate representation, modelled on OPA's `internal/ir` package.
 * The planner (src/rego/planner*.ts) produces a `Policy`; code generation (emit*.ts) turns
 * every `Func` and `Plan` into a WebAssembly function.
 *
 * Execution model (as in OPA):
 * - A `Block` runs its statements in order. A statement that "fails" (an Equal that is false,
 *   a Dot on a missing key, an IsDefined on an undefined local, a builtin that returns
 *   undefined, ...) ends the current block: control continues after the block.
 * - `BlockStmt` runs each of its blocks in turn (each is its own failure scope).
 * - `BreakStmt{index}` leaves `index + 1` enclosing blocks (0 = the innermost block).
 * - `ScanStmt` runs its block once per key/value of a collection (array index, object key,
 *   set element for both key and value).
 * - `NotStmt` runs its block; if the block runs to its end, the NotStmt fails.
 * - Locals are mutable variables holding value addresses; a local that was never assigned
 *   (or was reset) is "undefined".
 */

/** A local variable of a plan or function. */
export type Local = number;

/** Local 0 of every plan and planned function holds `input`. */
export const INPUT: Local = 0;
/** Local 1 of every plan and planned function holds `data`. */
export const DATA: Local = 1;

/** A statement operand: a local, a boolean constant or a string constant (index). */
export type Operand =
  | { type: 'local'; value: Local }
  | { type: 'bool'; value: boolean }
  | { type: 'string_index'; value: number };

/** Source location of a statement: index into `Static.files`, 1-based row and col. */
export interface StmtLocation {
  file: number;
  row: number;
  col: number;
}

interface StmtBase {
  /** Where the statement comes from (used for runtime error messages). */
  loc?: StmtLocation;
}

/**
 * Call a function. If `func` names an entry of `Policy.funcs`, it is a planned function and
 * `args` start with input and data (locals); otherwise `func` is a builtin listed in
 * `Static.builtinFuncs` (e.g. `plus`, `count`, `time.now_ns`, `internal.print`). The call
 * fails when the callee's result is undefined.
 */
export interface CallStmt extends StmtBase {
  type: 'CallStmt';
  func: string;
  args: Operand[];
  result: Local;
}

/**
 * Call the planned function whose path is given by `path` (string operands or locals
 * holding strings, e.g. `["g0", "data", <local>]`); fails when no function has that path.
 */
export interface CallDynamicStmt extends StmtBase {
  type: 'CallDynamicStmt';
  args: Local[];
  path: Operand[];
  result: Local;
}

/** `target = source[key]`; fails when source is not a collection or the key is missing. */
export interface DotStmt extends StmtBase {
  type: 'DotStmt';
  source: Operand;
  key: Operand;
  target: Local;
}

/** `target = count(source)` for arrays, objects, sets and strings (in code points). */
export interface LenStmt extends StmtBase {
  type: 'LenStmt';
  source: Operand;
  target: Local;
}

/** Iterate `source` (array, object or set), setting key/value locals, running `block`. */
export interface ScanStmt extends StmtBase {
  type: 'ScanStmt';
  source: Local;
  key: Local;
  value: Local;
  block: Block;
}

/** Negation: succeeds iff `block` does not run to completion. */
export interface NotStmt extends StmtBase {
  type: 'NotStmt';
  block: Block;
}

/** Run `blocks` in sequence, each one its own failure scope. */
export interface BlockStmt extends StmtBase {
  type: 'BlockStmt';
  blocks: Block[];
}

/** Leave `index + 1` enclosing blocks. */
export interface BreakStmt extends StmtBase {
  type: 'BreakStmt';
  index: number;
}

/** `target = source`. */
export interface AssignVarStmt extends StmtBase {
  type: 'AssignVarStmt';
  source: Operand;
  target: Local;
}

/**
 * `target = source` if target is undefined; if target holds an equal value, nothing; if it
 * holds a different value, a runtime error "var assignment conflict" (OPA's
 * eval_conflict_error: complete rule or function with several outputs).
 */
export interface AssignVarOnceStmt extends StmtBase {
  type: 'AssignVarOnceStmt';
  source: Operand;
  target: Local;
  /**
   * The runtime error message on conflict, when the planner knows a better one than
   * "var assignment conflict" (OPA's: "complete rules must not produce multiple outputs",
   * "functions must not produce multiple outputs for same inputs").
   */
  message?: string;
}

/** Store a raw machine integer (not a Rego value) in `target`; used for counters. */
export interface AssignIntStmt extends StmtBase {
  type: 'AssignIntStmt';
  value: number;
  target: Local;
}

/** Make `target` undefined again (before re-running a block that assigns it). */
export interface ResetLocalStmt extends StmtBase {
  type: 'ResetLocalStmt';
  target: Local;
}

/** `target = null`. */
export interface MakeNullStmt extends StmtBase {
  type: 'MakeNullStmt';
  target: Local;
}

/** `target = <number>` for an integer that fits in 53 bits (a JS safe integer). */
export interface MakeNumberIntStmt extends StmtBase {
  type: 'MakeNumberIntStmt';
  value: number;
  target: Local;
}

/** `target = <number>` parsed from `Static.strings[index]` (big integers, decimals). */
export interface MakeNumberRefStmt extends StmtBase {
  type: 'MakeNumberRefStmt';
  index: number;
  target: Local;
}

/** `target = []` with room for `capacity` items. */
export interface MakeArrayStmt extends StmtBase {
  type: 'MakeArrayStmt';
  capacity: number;
  target: Local;
}

/** `target = {}` (object). */
export interface MakeObjectStmt extends StmtBase {
  type: 'MakeObjectStmt';
  target: Local;
}

/** `target = set()`. */
export interface MakeSetStmt extends StmtBase {
  type: 'MakeSetStmt';
  target: Local;
}

/**
 * Append `value` to the array in `array` (mutates it). Collections hold value addresses:
 * a collection inserted into another and mutated afterwards is seen mutated through both.
 */
export interface ArrayAppendStmt extends StmtBase {
  type: 'ArrayAppendStmt';
  value: Operand;
  array: Local;
}

/** `object[key] = value` (mutates; overwrites an existing key). */
export interface ObjectInsertStmt extends StmtBase {
  type: 'ObjectInsertStmt';
  key: Operand;
  value: Operand;
  object: Local;
}

/**
 * `object[key] = value`; if the key exists with a different value, a runtime error
 * "object insert conflict" (OPA's eval_conflict_error for partial objects).
 */
export interface ObjectInsertOnceStmt extends StmtBase {
  type: 'ObjectInsertOnceStmt';
  key: Operand;
  value: Operand;
  object: Local;
  /** The runtime error message on conflict (OPA's: "object keys must be unique"). */
  message?: string;
}

/**
 * `target = deep merge of a and b` (objects; on a key in both, nested objects merge, for
 * other values `a` wins). Fails if either is not an object.
 */
export interface ObjectMergeStmt extends StmtBase {
  type: 'ObjectMergeStmt';
  a: Local;
  b: Local;
  target: Local;
}

/** Add `value` to the set in `set` (mutates it). */
export interface SetAddStmt extends StmtBase {
  type: 'SetAddStmt';
  value: Operand;
  set: Local;
}

/** Fails unless `a` equals `b` (Rego value equality: 1 == 1.0). */
export interface EqualStmt extends StmtBase {
  type: 'EqualStmt';
  a: Operand;
  b: Operand;
}

/** Fails when `a` equals `b`. */
export interface NotEqualStmt extends StmtBase {
  type: 'NotEqualStmt';
  a: Operand;
  b: Operand;
}

/** Fails unless `source` is an array. */
export interface IsArrayStmt extends StmtBase {
  type: 'IsArrayStmt';
  source: Operand;
}

/** Fails unless `source` is an object. */
export interface IsObjectStmt extends StmtBase {
  type: 'IsObjectStmt';
  source: Operand;
}

/** Fails unless `source` is a set. */
export interface IsSetStmt extends StmtBase {
  type: 'IsSetStmt';
  source: Operand;
}

/** Fails unless the local is defined. */
export interface IsDefinedStmt extends StmtBase {
  type: 'IsDefinedStmt';
  source: Local;
}

/** Fails if the local is defined. */
export interface IsUndefinedStmt extends StmtBase {
  type: 'IsUndefinedStmt';
  source: Local;
}

/** Return `source` from the current function (undefined local = undefined result). */
export interface ReturnLocalStmt extends StmtBase {
  type: 'ReturnLocalStmt';
  source: Local;
}

/** Add `value` to the plan's result set (plans only). */
export interface ResultSetAddStmt extends StmtBase {
  type: 'ResultSetAddStmt';
  value: Local;
}

/**
 * Run `block` with `local` (input or data) replaced by a copy in which the value at `path`
 * (string constant indexes) is `value` (missing or non-object intermediate documents become
 * objects, as OPA's upsert does); the old value is restored afterwards, also when a BreakStmt
 * leaves the block. An empty path replaces the whole document. The planner may assign the
 * local inside the block (it restores the original document around the rest of the body).
 */
export interface WithStmt extends StmtBase {
  type: 'WithStmt';
  local: Local;
  path: number[];
  value: Operand;
  block: Block;
}

/** Does nothing (placeholder where OPA emits one). */
export interface NopStmt extends StmtBase {
  type: 'NopStmt';
}

/** Any IR statement. */
export type Stmt =
  | CallStmt
  | CallDynamicStmt
  | DotStmt
  | LenStmt
  | ScanStmt
  | NotStmt
  | BlockStmt
  | BreakStmt
  | AssignVarStmt
  | AssignVarOnceStmt
  | AssignIntStmt
  | ResetLocalStmt
  | MakeNullStmt
  | MakeNumberIntStmt
  | MakeNumberRefStmt
  | MakeArrayStmt
  | MakeObjectStmt
  | MakeSetStmt
  | ArrayAppendStmt
  | ObjectInsertStmt
  | ObjectInsertOnceStmt
  | ObjectMergeStmt
  | SetAddStmt
  | EqualStmt
  | NotEqualStmt
  | IsArrayStmt
  | IsObjectStmt
  | IsSetStmt
  | IsDefinedStmt
  | IsUndefinedStmt
  | ReturnLocalStmt
  | ResultSetAddStmt
  | WithStmt
  | NopStmt;

/** A sequence of statements; a failing statement leaves the block. */
export interface Block {
  stmts: Stmt[];
}

/** A builtin the policy calls, with its arity (number of arguments, result excluded). */
export interface BuiltinFunc {
  name: string;
  arity: number;
}

/** Constants shared by all plans and functions. */
export interface Static {
  /** String constants, referenced by `string_index` operands and MakeNumberRefStmt. */
  strings: string[];
  /** Every builtin called by some CallStmt, each listed once. */
  builtinFuncs: BuiltinFunc[];
  /** Source file names, referenced by `StmtLocation.file`. */
  files: string[];
}

/**
 * An entrypoint. `name` is the entrypoint path as given (`pkg/rule`). The plan runs with
 * input in local 0 and data in local 1; it adds `{"result": value}` objects to the result
 * set with ResultSetAddStmt (none when the entrypoint is undefined).
 */
export interface Plan {
  name: string;
  blocks: Block[];
}

/**
 * A planned function: one per rule set (all rules of one path), per user function, and per
 * helper the planner needs. `params` start with input (0) and data (1), then the function's
 * own arguments. Running the blocks to the end without a ReturnLocalStmt returns `ret`.
 */
export interface Func {
  /** Unique name, e.g. `g0.data.pkg.p` (OPA's naming). */
  name: string;
  /** The data path it computes (e.g. `["g0", "pkg", "p"]`) for CallDynamicStmt lookups. */
  path: string[];
  params: Local[];
  /** The local returned (undefined local = undefined result). */
  return: Local;
  blocks: Block[];
}

/** A whole planned policy. */
export interface Policy {
  static: Static;
  plans: Plan[];
  funcs: Func[];
}
