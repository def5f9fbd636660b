/**
 * The policy planner: turns parsed modules into the IR (see ir.ts). It resolves names and
 * builds the rule tree (rewrite-resolve.ts), plans one function per rule set and per tree node
 * that is read as a whole, plans one plan per entrypoint, and runs the checks that need the
 * whole program: unsafe variables (while ordering each body), unknown functions, arity,
 * conflicting rule kinds and recursion. Every rule set is planned, reachable or not, so that
 * every error is reported.
 */

import type * as ast from './ast.js';
import { BUILTIN_ARITY } from './check-builtins.js';
import { findRecursion } from './check-recursion.js';
import { opName } from './check-safety.js';
import { diagnostic, hasErrors, sortDiagnostics, type Diagnostic } from './diagnostics.js';
import type * as ir from './ir.js';
import { NO_MOCKS, op, type Mocks, type PlanContext } from './planner-context.js';
import { planDataRef, planNodeBody } from './planner-data.js';
import { FuncPlanner } from './planner-func.js';
import { planRuleSet } from './planner-rules.js';
import {
  buildRuleIndex,
  pathKey,
  type RuleIndex,
  type RuleSet,
  type TreeNode,
} from './rewrite-resolve.js';

/** Options of {@link planPolicy}. */
export interface PlanOptions {
  /** Entrypoint paths below data, `/`-separated (`pkg/rule`, `test/p/test_x`). */
  entrypoints: string[];
  /** Builtins the back end supports (name -> arity); defaults to the frontend's table. */
  builtins?: Readonly<Record<string, number>>;
}

/** Plan a policy for the entrypoints. `policy` is absent when there are errors. */
export function planPolicy(
  modules: ast.Module[],
  options: PlanOptions,
): { policy?: ir.Policy; diagnostics: Diagnostic[] } {
  const diags: Diagnostic[] = [];
  const builtins = options.builtins ?? BUILTIN_ARITY;
  const index = buildRuleIndex(modules, builtins, diags);
  const planner = new PolicyPlanner(index, builtins, diags);
  for (const set of index.sets.values()) planner.setFunc(set, NO_MOCKS);
  for (const e of options.entrypoints) {
    // OPA's `opa build` refuses an entrypoint that no rule answers (compile.go, compilePlan).
    if (!refersToRule(index.root, entrypointPath(e))) {
      diags.push(
        diagnostic(
          { file: '', line: 0, col: 0 },
          'rego_compile_error',
          `entrypoint ${JSON.stringify(e)} does not refer to a rule or policy decision`,
        ),
      );
    }
  }
  const plans = options.entrypoints.map((e) => planner.plan(e, modules));
  planner.drain();
  for (const cycle of findRecursion(planner.edges)) {
    const set = index.sets.get(cycle[0]!);
    const loc = set?.rules[0]?.rule.loc ?? set?.defaultRule?.rule.loc;
    const names = cycle.map(
      (k) =>
        'data.' +
        k
          .replace(/^node:/, '')
          .split('\u0000')
          .join('.'),
    );
    diags.push(
      diagnostic(
        loc ?? { file: modules[0]?.file ?? '', line: 1, col: 1 },
        'rego_recursion_error',
        `rule ${names[0]} is recursive: ${[...names, names[0]].join(' -> ')}`,
      ),
    );
  }
  const unique = dedupe(diags);
  if (hasErrors(unique)) return { diagnostics: sortDiagnostics(unique) };
  const policy: ir.Policy = {
    static: { strings: planner.strings, builtinFuncs: planner.builtinFuncs, files: planner.files },
    plans,
    funcs: planner.funcs,
  };
  return { policy, diagnostics: sortDiagnostics(unique) };
}

function entrypointPath(entrypoint: string): string[] {
  return entrypoint.split('/').filter((s) => s !== '');
}

/**
 * Whether a rule answers the entrypoint, as OPA's `GetRules` decides: a rule on the way down
 * (the entrypoint reads into its value), or a rule at or below the path (a package or a
 * prefix of rule paths). Base documents from data files do not count.
 */
function refersToRule(root: TreeNode, path: readonly string[]): boolean {
  let node = root;
  for (const seg of path) {
    const child = node.children.get(seg);
    if (child === undefined) return false;
    node = child;
    if (node.ruleSet !== undefined) return true;
  }
  return hasRules(node);
}

function hasRules(node: TreeNode): boolean {
  if (node.ruleSet !== undefined) return true;
  for (const child of node.children.values()) if (hasRules(child)) return true;
  return false;
}

function dedupe(diags: Diagnostic[]): Diagnostic[] {
  const seen = new Set<string>();
  return diags.filter((d) => {
    const key = `${d.file}:${d.line}:${d.col}:${d.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

interface Pending {
  name: string;
  path: string[];
  owner: string;
  mocks: Mocks;
  plan: (fp: FuncPlanner) => { params: ir.Local[]; ret: ir.Local };
}

class PolicyPlanner implements PlanContext {
  readonly strings: string[] = [];
  private readonly stringIdx = new Map<string, number>();
  readonly files: string[] = [];
  readonly builtinFuncs: ir.BuiltinFunc[] = [];
  readonly funcs: ir.Func[] = [];
  /** Recursion graph: owner key -> keys it depends on. */
  readonly edges = new Map<string, Set<string>>();
  private readonly names = new Map<string, string>();
  private readonly generations = new Map<string, number>();
  private readonly queue: Pending[] = [];
  private owner = '';
  private mockIds = 0;

  constructor(
    readonly index: RuleIndex,
    readonly builtins: Readonly<Record<string, number>>,
    readonly diags: Diagnostic[],
  ) {}

  str(s: string): number {
    let i = this.stringIdx.get(s);
    if (i === undefined) {
      i = this.strings.length;
      this.strings.push(s);
      this.stringIdx.set(s, i);
    }
    return i;
  }

  file(name: string): number {
    let i = this.files.indexOf(name);
    if (i < 0) i = this.files.push(name) - 1;
    return i;
  }

  useBuiltin(name: string, arity: number): void {
    if (!this.builtinFuncs.some((b) => b.name === name)) this.builtinFuncs.push({ name, arity });
  }

  depend(to: string): void {
    if (this.owner === '') return;
    const set = this.edges.get(this.owner) ?? new Set<string>();
    set.add(to);
    this.edges.set(this.owner, set);
  }

  nextMockId(): number {
    return this.mockIds++;
  }

  callArity(t: ast.CallTerm): number | undefined {
    const name = opName(t);
    if (name === 'eq' || name === 'assign') return 2;
    if (name === 'print') return t.args.length;
    if (name.startsWith('data.'))
      return this.index.sets.get(pathKey(name.split('.').slice(1)))?.arity;
    const a = this.builtins[name];
    return a === undefined || a < 0 ? undefined : a;
  }

  private generation(mocks: Mocks): number {
    let g = this.generations.get(mocks.id);
    if (g === undefined) {
      g = this.generations.size;
      this.generations.set(mocks.id, g);
    }
    return g;
  }

  setFunc(set: RuleSet, mocks: Mocks): string {
    const name = `g${this.generation(mocks)}.data.${set.path.join('.')}`;
    if (!this.names.has(name)) {
      this.names.set(name, name);
      const owner = pathKey(set.path);
      this.queue.push({
        name,
        path: [`g${this.generation(mocks)}`, ...set.path],
        owner,
        mocks,
        plan: (fp) => planRuleSet(fp, set),
      });
    }
    return name;
  }

  nodeFunc(node: TreeNode, mocks: Mocks): string {
    const name = `g${this.generation(mocks)}.node.data${node.path.map((p) => '.' + p).join('')}`;
    if (!this.names.has(name)) {
      this.names.set(name, name);
      this.queue.push({
        name,
        path: [`g${this.generation(mocks)}`, 'node', ...node.path],
        owner: 'node:' + pathKey(node.path),
        mocks,
        plan: (fp) => {
          const ret = planNodeBody(fp, node);
          fp.emit({ type: 'ReturnLocalStmt', source: ret });
          return { params: [0, 1], ret };
        },
      });
    }
    return name;
  }

  /** Plan every queued function (planning may queue more). */
  drain(): void {
    for (let p = this.queue.shift(); p !== undefined; p = this.queue.shift()) {
      const fp = new FuncPlanner(this, p.mocks);
      const saved = this.owner;
      this.owner = p.owner;
      const { params, ret } = p.plan(fp);
      this.owner = saved;
      this.funcs.push({
        name: p.name,
        path: p.path,
        params,
        return: ret,
        blocks: [{ stmts: fp.curr }],
      });
    }
  }

  /** The plan of one entrypoint: evaluate `data.<path>` and add `{"result": v}`. */
  plan(entrypoint: string, modules: ast.Module[]): ir.Plan {
    const segs = entrypointPath(entrypoint);
    const fp = new FuncPlanner(this, NO_MOCKS);
    const loc: ast.Location = { file: modules[0]?.file ?? '', line: 1, col: 1 };
    const path: ast.Term[] = segs.map((value) => ({ type: 'string', loc, value }));
    planDataRef(fp, path, (v) => {
      const obj = fp.newLocal();
      fp.emit({ type: 'MakeObjectStmt', target: obj });
      fp.emit({ type: 'ObjectInsertStmt', key: op.str(this.str('result')), value: v, object: obj });
      fp.emit({ type: 'ResultSetAddStmt', value: obj });
    });
    return { name: entrypoint, blocks: [{ stmts: fp.curr }] };
  }
}
