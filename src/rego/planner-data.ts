/**
 * Planning of `data` references. The rule tree says which paths are virtual (computed by
 * rules): a ref walks the tree while its elements are constant strings; on reaching a rule set
 * it calls that set's function and walks the rest of the ref on the value; on leaving the tree
 * it reads base data; on a variable (iteration) or at an inner node it builds the node's whole
 * document, the virtual children merged over the base data at that path (OPA's semantics for
 * `data.x[k]` and `data` itself).
 */

import type * as ast from './ast.js';
import { diagnostic } from './diagnostics.js';
import * as ir from './ir.js';
import { op } from './planner-context.js';
import type { FuncPlanner } from './planner-func.js';
import { pathKey, type TreeNode } from './rewrite-resolve.js';

/** Plan `data.<path>`. */
export function planDataRef(fp: FuncPlanner, path: ast.Term[], k: (o: ir.Operand) => void): void {
  planFrom(fp, fp.ctx.index.root, path, 0, k);
}

/** Plan the rest `path[i..]` of a data ref that reached `start` in the rule tree. */
function planFrom(
  fp: FuncPlanner,
  start: TreeNode,
  path: ast.Term[],
  startIndex: number,
  k: (o: ir.Operand) => void,
): void {
  let node = start;
  let i = startIndex;
  for (;;) {
    if (isMocked(fp, node.path)) return planBasePath(fp, node.path, path.slice(i), k);
    const set = node.ruleSet;
    const isValue = set !== undefined && (set.kind !== 'function' || set.arity === 0);
    if (isValue && node.children.size > 0) {
      // Rules at this path and below it (`p[k] := v` with `p.foo := 1`): one merged document.
      return planNode(fp, node, path, i, k);
    }
    if (set !== undefined) {
      if (set.kind === 'function' && set.arity !== 0) {
        const name = ['data', ...set.path].join('.');
        const at = path[i - 1]?.loc ?? path[0]?.loc;
        if (at !== undefined) {
          fp.ctx.diags.push(
            diagnostic(at, 'rego_type_error', `function ${name} used as a value (call it)`),
          );
        }
        return;
      }
      const func = fp.ctx.setFunc(set, fp.mocks);
      fp.ctx.depend(pathKey(set.path));
      const result = fp.newLocal();
      const args = [op.local(ir.INPUT), op.local(ir.DATA)];
      fp.emit({ type: 'CallStmt', func, args, result });
      return fp.walkPath(op.local(result), path, i, k);
    }
    const el = dataKey(path[i]);
    if (el === undefined) {
      if (node.children.size === 0 && node.isPackage !== true) {
        return planBasePath(fp, node.path, [], k);
      }
      return planNode(fp, node, path, i, k);
    }
    if (el.type === 'string') {
      const child = node.children.get(el.value);
      if (child === undefined) {
        return planBasePath(fp, node.path, path.slice(i), k);
      }
      node = child;
      i++;
      continue;
    }
    if (node.children.size === 0) return planBasePath(fp, node.path, path.slice(i), k);
    return planNode(fp, node, path, i, k);
  }
}

function planNode(
  fp: FuncPlanner,
  node: TreeNode,
  path: ast.Term[],
  i: number,
  k: (o: ir.Operand) => void,
): void {
  const func = fp.ctx.nodeFunc(node, fp.mocks);
  fp.ctx.depend('node:' + pathKey(node.path));
  const result = fp.newLocal();
  fp.emit({ type: 'CallStmt', func, args: [op.local(ir.INPUT), op.local(ir.DATA)], result });
  fp.walkPath(op.local(result), path, i, k);
}

/** Read base data at `prefix` (constant) and then walk `rest`. */
export function planBasePath(
  fp: FuncPlanner,
  prefix: string[],
  rest: ast.Term[],
  k: (o: ir.Operand) => void,
): void {
  let src: ir.Operand = op.local(ir.DATA);
  for (const seg of prefix) {
    const target = fp.newLocal();
    fp.emit({ type: 'DotStmt', source: src, key: op.str(fp.ctx.str(seg)), target });
    src = op.local(target);
  }
  let i = 0;
  for (; i < rest.length; i++) {
    const el = rest[i]!;
    if (el.type === 'string') {
      const target = fp.newLocal();
      fp.emit({ type: 'DotStmt', source: src, key: op.str(fp.ctx.str(el.value)), target });
      src = op.local(target);
    } else if (el.type === 'number' && /^\d+$/.test(el.value)) {
      src = op.local(integerKey(fp, src, el));
    } else if (el.type === 'number' && /^\d+\.\d+$/.test(el.value)) {
      // A decimal key can only name an object key, by its text.
      const target = fp.newLocal();
      fp.emit({ type: 'DotStmt', source: src, key: op.str(fp.ctx.str(el.value)), target });
      src = op.local(target);
    } else {
      break;
    }
  }
  fp.walkPath(src, rest, i, k);
}

/**
 * `data.x[2]`: base documents are addressed by path strings in OPA, so an integer key finds
 * array index 2 or object key "2"; try the number first, then its text.
 */
function integerKey(fp: FuncPlanner, src: ir.Operand, el: ast.NumberTerm): ir.Local {
  const target = fp.newLocal();
  fp.emit({ type: 'ResetLocalStmt', target });
  const num = fp.newLocal();
  fp.emit({ type: 'MakeNumberIntStmt', value: Number(el.value), target: num });
  const byNumber: ir.Block = {
    stmts: [{ type: 'DotStmt', source: src, key: op.local(num), target }],
  };
  const byText: ir.Block = {
    stmts: [
      { type: 'IsUndefinedStmt', source: target },
      { type: 'DotStmt', source: src, key: op.str(fp.ctx.str(el.value)), target },
    ],
  };
  fp.emit({ type: 'BlockStmt', blocks: [byNumber, byText] });
  fp.emit({ type: 'IsDefinedStmt', source: target });
  return target;
}

/**
 * True when `with data...` replaced the documents at `path`. `with data as x` replaces base
 * data only: rules keep computing their documents (from the new base data).
 */
function isMocked(fp: FuncPlanner, path: string[]): boolean {
  return path.length > 0 && fp.mocks.data.has(pathKey(path));
}

/**
 * The body of a node's function: an object of every virtual child that is defined (functions
 * left out), merged over the base data at the node's path. The result local is returned.
 */
export function planNodeBody(fp: FuncPlanner, node: TreeNode): ir.Local {
  const obj = fp.newLocal();
  const set = node.ruleSet;
  if (set !== undefined && set.kind !== 'function') {
    // The rules at the node itself give the starting object; children are added to it.
    const func = fp.ctx.setFunc(set, fp.mocks);
    fp.ctx.depend(pathKey(set.path));
    fp.emit({ type: 'CallStmt', func, args: [op.local(ir.INPUT), op.local(ir.DATA)], result: obj });
    fp.emit({ type: 'IsObjectStmt', source: op.local(obj) });
  } else {
    fp.emit({ type: 'MakeObjectStmt', target: obj });
  }
  for (const [name, child] of node.children) {
    const fn = child.ruleSet?.kind === 'function' && child.ruleSet.arity !== 0;
    if (fn && child.children.size === 0) continue;
    const block = fp.block(() => {
      planFrom(fp, child, [], 0, (v) => {
        const key = op.str(fp.ctx.str(name));
        if (set !== undefined) insertUnderRules(fp, obj, key, v);
        else fp.emit({ type: 'ObjectInsertStmt', key, value: v, object: obj });
      });
    });
    fp.emit({ type: 'BlockStmt', blocks: [block] });
  }
  const result = fp.newLocal();
  fp.emit({ type: 'AssignVarStmt', source: op.local(obj), target: result });
  const merge = fp.block(() =>
    planBasePath(fp, node.path, [], (base) => {
      const b = fp.toLocal(base);
      fp.emit({ type: 'IsObjectStmt', source: op.local(b) });
      fp.emit({ type: 'ObjectMergeStmt', a: obj, b, target: result });
    }),
  );
  fp.emit({ type: 'BlockStmt', blocks: [merge] });
  return result;
}

/**
 * Adds a child's document under `key` of the object the node's own rules produced. Both are
 * parts of one document (`a.b.c := 1` beside `a[p][q] := 3` build `a.b` together): when both
 * hold an object there, they merge; any other overlap must agree, else it is OPA's conflict
 * "object keys must be unique". Two merges, each letting the other side win, differ exactly
 * when some leaf is produced with two different values.
 */
function insertUnderRules(fp: FuncPlanner, obj: ir.Local, key: ir.Operand, v: ir.Operand): void {
  const value = fp.toLocal(v);
  const found = fp.newLocal();
  const merged = fp.newLocal();
  const other = fp.newLocal();
  // Set only once the merge went through (a failed block leaves its locals assigned).
  const done = fp.newLocal();
  fp.emit({ type: 'ResetLocalStmt', target: found });
  fp.emit({ type: 'ResetLocalStmt', target: done });
  fp.emit({
    type: 'BlockStmt',
    blocks: [{ stmts: [{ type: 'DotStmt', source: op.local(obj), key, target: found }] }],
  });
  const merge: ir.Stmt[] = [
    { type: 'IsDefinedStmt', source: found },
    { type: 'IsObjectStmt', source: op.local(found) },
    { type: 'IsObjectStmt', source: op.local(value) },
    { type: 'ObjectMergeStmt', a: found, b: value, target: merged },
    { type: 'ObjectMergeStmt', a: value, b: found, target: other },
    { type: 'EqualStmt', a: op.local(merged), b: op.local(other) },
    { type: 'ObjectInsertStmt', key, value: op.local(merged), object: obj },
    { type: 'AssignVarStmt', source: op.local(merged), target: done },
  ];
  fp.emit({ type: 'BlockStmt', blocks: [{ stmts: merge }] });
  const once: ir.Stmt[] = [
    { type: 'IsUndefinedStmt', source: done },
    {
      type: 'ObjectInsertOnceStmt',
      key,
      value: op.local(value),
      object: obj,
      message: 'object keys must be unique',
    },
  ];
  fp.emit({ type: 'BlockStmt', blocks: [{ stmts: once }] });
}

/** Integer keys of data refs address base documents by their string form, as OPA does. */
function dataKey(t: ast.Term | undefined): ast.Term | undefined {
  if (t?.type === 'number' && /^\d+(\.\d+)?$/.test(t.value)) return { ...t, type: 'string' };
  return t;
}
