/**
 * Planning of calls: builtins (CallStmt by name, listed in the policy's builtin table), user
 * functions (CallStmt of the function planned for the rule set, with input and data first),
 * functions replaced by `with`, and `print`.
 */

import type * as ast from './ast.js';
import { opName } from './check-safety.js';
import { diagnostic } from './diagnostics.js';
import * as ir from './ir.js';
import { op } from './planner-context.js';
import { planBasePath } from './planner-data.js';
import type { FuncPlanner } from './planner-func.js';
import { pathKey, type RuleSet } from './rewrite-resolve.js';

/** Plan a call of `t`'s operator with `args`; `k` receives the result local. */
export function planCall(
  fp: FuncPlanner,
  t: ast.CallTerm,
  args: ast.Term[],
  k: (r: ir.Local) => void,
): void {
  const name = opName(t);
  const mock = fp.mocks.funcs.get(name);
  if (mock !== undefined) {
    if (mock.kind === 'value') return planBasePath(fp, mock.dataPath, [], (o) => k(fp.toLocal(o)));
    if (mock.kind === 'builtin') return callBuiltin(fp, mock.name, t, args, k);
    // The replacement runs without its own mock, so `f(x) := f1(x)` used `with f1 as f` calls
    // the real f1 (OPA's behaviour).
    const funcs = new Map(fp.mocks.funcs);
    funcs.delete(name);
    const id = fp.mocks.id + `;-${name}`;
    return callUser(fp, mock.set, t, args, k, { ...fp.mocks, id, funcs });
  }
  if (name.startsWith('data.')) {
    const set = fp.ctx.index.sets.get(pathKey(name.split('.').slice(1)));
    if (set === undefined || set.kind !== 'function') {
      fp.ctx.diags.push(diagnostic(t.loc, 'rego_type_error', `undefined function ${name}`));
      return;
    }
    return callUser(fp, set, t, args, k);
  }
  if (name === 'walk' && args.length === 1) return planWalk(fp, t, args, k);
  if (fp.ctx.builtins[name] === undefined) {
    fp.ctx.diags.push(diagnostic(t.loc, 'rego_type_error', `undefined function ${name}`));
    return;
  }
  callBuiltin(fp, name, t, args, k);
}

/**
 * `walk(x)` yields each `[path, value]` pair of `x` as a separate value (OPA plans it as an
 * iterating builtin): the runtime's `internal.walk` returns all the pairs as one array, and a
 * scan over it continues the body once per pair, so `walk(x, [p, v])` binds p and v in turn.
 */
function planWalk(
  fp: FuncPlanner,
  t: ast.CallTerm,
  args: ast.Term[],
  k: (r: ir.Local) => void,
): void {
  callBuiltin(fp, 'internal.walk', t, args, (pairs) => {
    const key = fp.newLocal();
    const value = fp.newLocal();
    const block = fp.block(() => k(value));
    fp.emit({ type: 'ScanStmt', source: pairs, key, value, block });
  });
}

function callBuiltin(
  fp: FuncPlanner,
  name: string,
  t: ast.CallTerm,
  args: ast.Term[],
  k: (r: ir.Local) => void,
): void {
  fp.planTerms(args, (ops) => {
    const result = fp.newLocal();
    fp.ctx.useBuiltin(name, ops.length);
    fp.emit({ type: 'CallStmt', func: name, args: ops, result, loc: fp.loc(t.loc) });
    k(result);
  });
}

function callUser(
  fp: FuncPlanner,
  set: RuleSet,
  t: ast.CallTerm,
  args: ast.Term[],
  k: (r: ir.Local) => void,
  mocks = fp.mocks,
): void {
  if (set.kind !== 'function' || set.arity !== args.length) {
    const name = ['data', ...set.path].join('.');
    fp.ctx.diags.push(
      diagnostic(
        t.loc,
        'rego_type_error',
        `${name}: arity mismatch: expected ${set.arity ?? 0} arguments, got ${args.length}`,
      ),
    );
    return;
  }
  const func = fp.ctx.setFunc(set, mocks);
  fp.ctx.depend(pathKey(set.path));
  fp.planTerms(args, (ops) => {
    const result = fp.newLocal();
    const all = [op.local(ir.INPUT), op.local(ir.DATA), ...ops];
    fp.emit({ type: 'CallStmt', func, args: all, result, loc: fp.loc(t.loc) });
    k(result);
  });
}

/**
 * `print(a, b)`: like OPA, each argument becomes a set of its values (empty when undefined,
 * printed as `<undefined>`), and `internal.print` receives the array of those sets. Print
 * never makes the body fail.
 */
export function planPrint(fp: FuncPlanner, t: ast.CallTerm, k: () => void): void {
  const sets: ir.Local[] = [];
  for (const arg of t.args) {
    const s = fp.newLocal();
    fp.emit({ type: 'MakeSetStmt', target: s });
    const block = fp.scoped(() =>
      fp.block(() =>
        fp.planBody(
          [{ kind: 'term', loc: arg.loc, negated: false, with: [], term: eqTemp(arg) }],
          () =>
            fp.planTerm({ type: 'var', loc: arg.loc, name: '$print' }, (o) =>
              fp.emit({ type: 'SetAddStmt', value: o, set: s }),
            ),
        ),
      ),
    );
    fp.emit({ type: 'BlockStmt', blocks: [block] });
    sets.push(s);
  }
  const arr = fp.newLocal();
  fp.emit({ type: 'MakeArrayStmt', capacity: sets.length, target: arr });
  for (const s of sets) fp.emit({ type: 'ArrayAppendStmt', value: op.local(s), array: arr });
  const result = fp.newLocal();
  fp.ctx.useBuiltin('internal.print', 1);
  const call: ir.Stmt = {
    type: 'CallStmt',
    func: 'internal.print',
    args: [op.local(arr)],
    result,
    loc: fp.loc(t.loc),
  };
  fp.emit({ type: 'BlockStmt', blocks: [{ stmts: [call] }] });
  k();
}

/** `$print = arg`, so iteration inside the argument collects every value. */
function eqTemp(arg: ast.Term): ast.CallTerm {
  const loc = arg.loc;
  return {
    type: 'call',
    loc,
    operator: { type: 'ref', loc, head: { type: 'var', loc, name: 'eq' }, path: [] },
    args: [{ type: 'var', loc, name: '$print' }, arg],
  };
}
