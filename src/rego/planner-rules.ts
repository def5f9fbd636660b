/**
 * The bodies of the functions planned for rule sets:
 * - complete rules: each rule (each `else` chain) assigns the result once; two different
 *   values are a conflict at run time (AssignVarOnceStmt); the default applies when no rule
 *   produced a value;
 * - partial sets and objects (and multi-segment heads with variables): every successful body
 *   inserts into one collection, building nested objects along the head's dynamic path;
 * - functions: arguments are unified with each definition's parameters first.
 */

import type * as ast from './ast.js';
import { unsafeTermVars } from './check-safety.js';
import type * as ir from './ir.js';
import { op } from './planner-context.js';
import type { FuncPlanner } from './planner-func.js';
import type { RuleInfo, RuleSet } from './rewrite-resolve.js';

/** Plan the rule set's function body into `fp`; returns the params and the result local. */
export function planRuleSet(fp: FuncPlanner, set: RuleSet): { params: ir.Local[]; ret: ir.Local } {
  const params: ir.Local[] = [0, 1];
  for (let i = 0; i < (set.arity ?? 0); i++) params.push(fp.newLocal());
  const ret = fp.newLocal();
  if (set.kind === 'complete' || set.kind === 'function') {
    const message =
      set.kind === 'function'
        ? 'functions must not produce multiple outputs for same inputs'
        : 'complete rules must not produce multiple outputs';
    for (const info of set.rules) planChain(fp, info, params.slice(2), ret, message);
    if (set.defaultRule !== undefined) planDefault(fp, set.defaultRule, params.slice(2), ret);
  } else {
    planCollection(fp, set, ret);
  }
  fp.emit({ type: 'ReturnLocalStmt', source: ret });
  return { params, ret };
}

/** One rule with its `else` chain: the first body that succeeds gives the value. */
function planChain(
  fp: FuncPlanner,
  info: RuleInfo,
  args: ir.Local[],
  ret: ir.Local,
  message: string,
): void {
  const chain: ast.Rule[] = [];
  for (let r: ast.Rule | undefined = info.rule; r !== undefined; r = r.else) chain.push(r);
  if (chain.length === 1) {
    fp.emit({ type: 'BlockStmt', blocks: [ruleBlock(fp, chain[0]!, args, ret, message)] });
    return;
  }
  const local = fp.newLocal();
  fp.emit({ type: 'ResetLocalStmt', target: local });
  chain.forEach((rule, i) => {
    const block = ruleBlock(fp, rule, args, local, message);
    if (i > 0) block.stmts.unshift({ type: 'IsUndefinedStmt', source: local });
    fp.emit({ type: 'BlockStmt', blocks: [block] });
  });
  const copy: ir.Block = {
    stmts: [
      { type: 'IsDefinedStmt', source: local },
      {
        type: 'AssignVarOnceStmt',
        source: op.local(local),
        target: ret,
        loc: fp.loc(info.rule.loc),
        message,
      },
    ],
  };
  fp.emit({ type: 'BlockStmt', blocks: [copy] });
}

/** The block of one rule: bind arguments, run the body, assign the value once. */
function ruleBlock(
  fp: FuncPlanner,
  rule: ast.Rule,
  args: ir.Local[],
  target: ir.Local,
  message: string,
): ir.Block {
  const base = fp.depth;
  // A constant value cannot conflict with itself: the first solution ends the body (OPA's
  // early exit), so iteration stops as soon as `allow` is known to be true.
  const constant = isGround(rule.head.value!);
  return fp.scoped(() =>
    fp.block(() => {
      fp.vars.clear();
      bindArgs(fp, rule.head.args ?? [], args, 0, () =>
        planBodyThen(fp, rule, [rule.head.value!], ([value]) => {
          fp.emit({
            type: 'AssignVarOnceStmt',
            source: value!,
            target,
            loc: fp.loc(rule.head.value?.loc ?? rule.loc),
            message,
          });
          if (constant) fp.breakTo(base);
        }),
      );
    }),
  );
}

/** True for terms without vars, refs, calls or comprehensions. */
function isGround(t: ast.Term): boolean {
  switch (t.type) {
    case 'null':
    case 'boolean':
    case 'number':
    case 'string':
      return true;
    case 'array':
    case 'set':
      return t.items.every(isGround);
    case 'object':
      return t.entries.every(([k, v]) => isGround(k) && isGround(v));
    default:
      return false;
  }
}

function bindArgs(
  fp: FuncPlanner,
  patterns: ast.Term[],
  args: ir.Local[],
  i: number,
  k: () => void,
): void {
  const p = patterns[i];
  if (p === undefined) return k();
  fp.unifyOp(p, op.local(args[i]!), () => bindArgs(fp, patterns, args, i + 1, k));
}

/** Plan the body, check the head terms are safe, then plan them and call `k`. */
function planBodyThen(
  fp: FuncPlanner,
  rule: ast.Rule,
  headTerms: ast.Term[],
  k: (ops: ir.Operand[]) => void,
): void {
  fp.planBody(rule.body, () => {
    const unsafe = unsafeTermVars(headTerms, fp.boundNames(), (t) => fp.ctx.callArity(t));
    unsafe.forEach((v) => fp.unsafe(v));
    if (unsafe.length === 0) fp.planTerms(headTerms, k);
  });
}

function planDefault(fp: FuncPlanner, info: RuleInfo, args: ir.Local[], ret: ir.Local): void {
  const block = fp.scoped(() =>
    fp.block(() => {
      fp.vars.clear();
      fp.emit({ type: 'IsUndefinedStmt', source: ret });
      bindArgs(fp, info.rule.head.args ?? [], args, 0, () =>
        fp.planTerm(info.rule.head.value!, (v) =>
          fp.emit({ type: 'AssignVarStmt', source: v, target: ret }),
        ),
      );
    }),
  );
  fp.emit({ type: 'BlockStmt', blocks: [block] });
}

/** Partial sets, partial objects and heads with variables: one collection built by all rules. */
function planCollection(fp: FuncPlanner, set: RuleSet, ret: ir.Local): void {
  const isPlainSet = set.kind === 'partialSet' && (set.rules[0]?.dyn.length ?? 0) === 0;
  fp.emit(
    isPlainSet ? { type: 'MakeSetStmt', target: ret } : { type: 'MakeObjectStmt', target: ret },
  );
  for (const info of set.rules) {
    const rule = info.rule;
    const isSet = rule.kind === 'partialSet';
    const leaf = isSet ? rule.head.key! : rule.head.value!;
    // A head without vars adds the same entry for every solution: stop at the first one.
    const ground = [...info.dyn, leaf].every(isGround);
    const base = fp.depth;
    const block = fp.scoped(() =>
      fp.block(() => {
        fp.vars.clear();
        planBodyThen(fp, rule, [...info.dyn, leaf], (ops) => {
          insertEntry(fp, ret, ops, isPlainSet, isSet, fp.loc(rule.loc));
          if (ground) fp.breakTo(base);
        });
      }),
    );
    fp.emit({ type: 'BlockStmt', blocks: [block] });
  }
  for (const info of set.keyedDefaults ?? []) planKeyedDefault(fp, info, ret);
}

/** `default p[k] := v`: insert k -> v unless the rules produced key k. */
function planKeyedDefault(fp: FuncPlanner, info: RuleInfo, ret: ir.Local): void {
  const block = fp.scoped(() =>
    fp.block(() => {
      fp.vars.clear();
      fp.planTerms([info.dyn[0]!, info.rule.head.value!], ([key, value]) => {
        const found = fp.newLocal();
        fp.emit({ type: 'ResetLocalStmt', target: found });
        const lookup: ir.Stmt = {
          type: 'DotStmt',
          source: op.local(ret),
          key: key!,
          target: found,
        };
        fp.emit({ type: 'BlockStmt', blocks: [{ stmts: [lookup] }] });
        fp.emit({ type: 'IsUndefinedStmt', source: found });
        fp.emit({ type: 'ObjectInsertStmt', key: key!, value: value!, object: ret });
      });
    }),
  );
  fp.emit({ type: 'BlockStmt', blocks: [block] });
}

/** Add one entry (keys..., value) produced by a rule body to the rule set's collection. */
function insertEntry(
  fp: FuncPlanner,
  ret: ir.Local,
  ops: ir.Operand[],
  isPlainSet: boolean,
  isSet: boolean,
  loc: ir.StmtLocation,
): void {
  const value = ops[ops.length - 1]!;
  const keys = ops.slice(0, -1);
  if (isPlainSet) {
    fp.emit({ type: 'SetAddStmt', value, set: ret });
    return;
  }
  if (isSet) {
    const container = descend(fp, ret, keys, keys.length, 'set');
    fp.emit({ type: 'SetAddStmt', value, set: container });
    return;
  }
  const parent = descend(fp, ret, keys, keys.length - 1, 'object');
  const key = keys[keys.length - 1]!;
  const message = 'object keys must be unique';
  fp.emit({ type: 'ObjectInsertOnceStmt', key, value, object: parent, loc, message });
}

/**
 * Walk `n` keys down from `root`, creating missing nested objects (the last one a set when
 * `leaf` is 'set'); returns the local holding the innermost collection.
 */
function descend(
  fp: FuncPlanner,
  root: ir.Local,
  keys: ir.Operand[],
  n: number,
  leaf: 'set' | 'object',
): ir.Local {
  let cur = root;
  for (let i = 0; i < n; i++) {
    const key = keys[i]!;
    const next = fp.newLocal();
    fp.emit({ type: 'ResetLocalStmt', target: next });
    fp.emit({
      type: 'BlockStmt',
      blocks: [{ stmts: [{ type: 'DotStmt', source: op.local(cur), key, target: next }] }],
    });
    const make: ir.Stmt =
      leaf === 'set' && i === n - 1
        ? { type: 'MakeSetStmt', target: next }
        : { type: 'MakeObjectStmt', target: next };
    fp.emit({
      type: 'BlockStmt',
      blocks: [
        {
          stmts: [
            { type: 'IsUndefinedStmt', source: next },
            make,
            { type: 'ObjectInsertStmt', key, value: op.local(next), object: cur },
          ],
        },
      ],
    });
    cur = next;
  }
  return cur;
}
