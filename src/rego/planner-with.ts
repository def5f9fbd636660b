/**
 * Planning of `with` modifiers. `with input...` and `with data...` on base data become
 * WithStmts. A `with data...` that covers rules (a virtual document) also marks that path
 * mocked, so every function planned under the modifier reads base data there (functions are
 * planned again under each distinct set of mocks). `with f as g` replaces a function by
 * another function, or by a value kept in data under a private path.
 *
 * The override applies to the expression only: the rest of the body runs with the original
 * input and data, restored inside the WithStmt's block around the continuation.
 */

import type * as ast from './ast.js';
import { diagnostic } from './diagnostics.js';
import * as ir from './ir.js';
import { op, type FuncMock, type Mocks } from './planner-context.js';
import type { FuncPlanner } from './planner-func.js';
import { pathKey } from './rewrite-resolve.js';

interface Override {
  local: ir.Local;
  path: string[];
  value: ast.Term;
}

/** Plan `e` (which has `with` modifiers) and then `k`. */
export function planWith(fp: FuncPlanner, e: ast.Expr, k: () => void): void {
  const overrides: Override[] = [];
  const mocks: Mocks = {
    id: fp.mocks.id,
    data: new Set(fp.mocks.data),
    funcs: new Map(fp.mocks.funcs),
  };
  const desc: string[] = [];
  for (const w of e.with) {
    const target = w.target;
    const head = target.head.type === 'var' ? target.head.name : '';
    const segs = constantPath(target.path);
    const fnSet =
      head === 'data' && segs !== undefined ? fp.ctx.index.sets.get(pathKey(segs)) : undefined;
    if ((head === 'input' || head === 'data') && fnSet?.kind !== 'function') {
      if (segs === undefined) {
        fp.ctx.diags.push(
          diagnostic(w.loc, 'rego_compile_error', 'with target must be a constant path'),
        );
        return;
      }
      const local = head === 'input' ? ir.INPUT : ir.DATA;
      overrides.push({ local, path: segs, value: w.value });
      if (head === 'data' && coversRules(fp, segs)) {
        mocks.data.add(pathKey(segs));
        desc.push('d:' + segs.join('.'));
      }
      continue;
    }
    const name = dotted(target);
    const isFunction =
      name !== undefined &&
      (fnSet?.kind === 'function' || (head !== 'data' && fp.ctx.builtins[name] !== undefined));
    if (name === undefined || !isFunction) {
      const message = 'with keyword target must reference existing input, data, or a function';
      fp.ctx.diags.push(diagnostic(w.loc, 'rego_compile_error', message));
      return;
    }
    const mock = funcMock(fp, w.value);
    if (mock !== undefined) {
      mocks.funcs.set(name, mock);
      const replacement =
        mock.kind === 'builtin' ? mock.name : mock.kind === 'user' ? mock.set.path.join('.') : '';
      desc.push(`f:${name}=${replacement}`);
      continue;
    }
    const dataPath = ['$with', String(fp.ctx.nextMockId())];
    overrides.push({ local: ir.DATA, path: dataPath, value: w.value });
    mocks.funcs.set(name, { kind: 'value', dataPath });
    desc.push(`v:${name}=${dataPath.join('.')}`);
  }
  if (desc.length > 0)
    mocks.id = [fp.mocks.id, ...desc]
      .filter((s) => s !== '')
      .sort()
      .join(';');

  const inner: ast.Expr = { ...e, with: [] };
  fp.planTerms(
    overrides.map((o) => o.value),
    (values) => {
      const savedIn = fp.newLocal();
      const savedData = fp.newLocal();
      fp.emit({ type: 'AssignVarStmt', source: op.local(ir.INPUT), target: savedIn });
      fp.emit({ type: 'AssignVarStmt', source: op.local(ir.DATA), target: savedData });
      const outer = fp.mocks;
      const build = (j: number): void => {
        const o = overrides[j];
        if (o === undefined) return planInner(fp, inner, mocks, outer, savedIn, savedData, k);
        const block = fp.block(() => build(j + 1));
        const path = o.path.map((s) => fp.ctx.str(s));
        fp.emit({ type: 'WithStmt', local: o.local, path, value: values[j]!, block });
      };
      build(0);
    },
  );
}

function planInner(
  fp: FuncPlanner,
  inner: ast.Expr,
  mocks: Mocks,
  outer: Mocks,
  savedIn: ir.Local,
  savedData: ir.Local,
  k: () => void,
): void {
  const overIn = fp.newLocal();
  const overData = fp.newLocal();
  fp.emit({ type: 'AssignVarStmt', source: op.local(ir.INPUT), target: overIn });
  fp.emit({ type: 'AssignVarStmt', source: op.local(ir.DATA), target: overData });
  fp.mocks = mocks;
  try {
    fp.planExpr(inner, () => {
      fp.mocks = outer;
      const rest = fp.block(() => {
        // The original input may be undefined again: check it anew when it is used.
        fp.inputChecked = false;
        fp.emit({ type: 'AssignVarStmt', source: op.local(savedIn), target: ir.INPUT });
        fp.emit({ type: 'AssignVarStmt', source: op.local(savedData), target: ir.DATA });
        k();
      });
      fp.emit({ type: 'BlockStmt', blocks: [rest] });
      fp.emit({ type: 'AssignVarStmt', source: op.local(overIn), target: ir.INPUT });
      fp.emit({ type: 'AssignVarStmt', source: op.local(overData), target: ir.DATA });
      fp.mocks = mocks;
    });
  } finally {
    fp.mocks = outer;
  }
}

function constantPath(path: ast.Term[]): string[] | undefined {
  const out: string[] = [];
  for (const p of path) {
    if (p.type !== 'string') return undefined;
    out.push(p.value);
  }
  return out;
}

function dotted(t: ast.Term): string | undefined {
  if (t.type === 'var') return t.name;
  if (t.type !== 'ref' || t.head.type !== 'var') return undefined;
  const rest = constantPath(t.path);
  return rest === undefined ? undefined : [t.head.name, ...rest].join('.');
}

/** True when rules define `data.<segs>` or something above or below it. */
function coversRules(fp: FuncPlanner, segs: string[]): boolean {
  let node = fp.ctx.index.root;
  for (const s of segs) {
    const child = node.children.get(s);
    if (child === undefined) return false;
    node = child;
    if (node.ruleSet !== undefined) return true;
  }
  return node.children.size > 0;
}

/** A `with` value naming a function (user or builtin) replaces by that function. */
function funcMock(fp: FuncPlanner, value: ast.Term): FuncMock | undefined {
  const name = dotted(value);
  if (name === undefined) return undefined;
  if (value.type === 'var' && fp.vars.has(name)) return undefined;
  if (name.startsWith('data.')) {
    const set = fp.ctx.index.sets.get(pathKey(name.split('.').slice(1)));
    return set?.kind === 'function' ? { kind: 'user', set } : undefined;
  }
  if (value.type === 'ref' && value.head.type === 'var' && fp.vars.has(value.head.name)) {
    return undefined;
  }
  return fp.ctx.builtins[name] !== undefined ? { kind: 'builtin', name } : undefined;
}
