/**
 * Declaration checks OPA makes at compile time: a var declared twice with `:=` in one body
 * ("var x assigned above"), `:=` to something that is not a var or a pattern, and, in Rego v1,
 * `input` or `data` shadowed by a rule or a local.
 */

import type * as ast from './ast.js';
import { opName } from './check-safety.js';
import { diagnostic, type Diagnostic } from './diagnostics.js';

/** Check one module's rules; problems go to `diags`. */
export function checkDeclarations(mod: ast.Module, diags: Diagnostic[]): void {
  const v1 = mod.regoVersion === 'v1';
  for (const rule of mod.rules) {
    const name = rule.head.ref[0];
    if (v1 && (name.name === 'input' || name.name === 'data') && rule.head.ref.length === 1) {
      diags.push(diagnostic(name.loc, 'rego_compile_error', `${name.name} cannot be shadowed`));
    }
    for (let r: ast.Rule | undefined = rule; r !== undefined; r = r.else) {
      const args = new Set<string>();
      r.head.args?.forEach((a) => patternVars(a, args));
      checkBody(r.body, new Set(args), v1, diags);
    }
  }
}

function checkBody(body: ast.Body, outer: Set<string>, v1: boolean, diags: Diagnostic[]): void {
  const assigned = new Set<string>(outer);
  // Vars declared in this body by `:=` or `some`, and vars referenced by earlier expressions:
  // `some x` after either is OPA's "var x assigned above" / "var x referenced above".
  const declared = new Map<string, 'assigned' | 'declared'>();
  const seen = new Set<string>();
  for (const e of body) {
    if (e.kind === 'every') {
      referenced(e.domain, seen);
      checkBody(e.body, new Set(), v1, diags);
      continue;
    }
    if (e.kind === 'some' || e.kind === 'somein') {
      const vars: ast.VarTerm[] = [];
      if (e.kind === 'some') vars.push(...e.vars);
      else {
        collect(e.key, vars);
        collect(e.value, vars);
        referenced(e.collection, seen);
      }
      for (const v of vars) {
        if (v.name.startsWith('$') || v.name.startsWith('_')) continue;
        const msg = declared.get(v.name) ?? (seen.has(v.name) ? 'referenced' : '');
        if (msg) diags.push(diagnostic(v.loc, 'rego_compile_error', `var ${v.name} ${msg} above`));
        declared.set(v.name, 'declared');
        assigned.add(v.name);
      }
      continue;
    }
    const t = e.term;
    visitClosures(t, v1, diags);
    if (t.type !== 'call' || opName(t) !== 'assign') {
      referenced(t, seen);
      continue;
    }
    const target = t.args[0];
    if (target !== undefined && !['var', 'array', 'object'].includes(target.type)) {
      // `1 := x` or `input.x := 1`: OPA's "cannot assign to number" / "cannot assign to ref".
      const what = target.type === 'ref' || target.type === 'call' ? 'ref' : target.type;
      diags.push(diagnostic(target.loc, 'rego_compile_error', `cannot assign to ${what}`));
      continue;
    }
    const lhs = new Set<string>();
    const vars: ast.VarTerm[] = [];
    collect(t.args[0], vars);
    for (const v of vars) {
      if (v.name.startsWith('$')) continue;
      if (v1 && (v.name === 'input' || v.name === 'data')) {
        diags.push(diagnostic(v.loc, 'rego_compile_error', `var ${v.name} cannot be shadowed`));
      } else if (assigned.has(v.name) || lhs.has(v.name)) {
        diags.push(diagnostic(v.loc, 'rego_compile_error', `var ${v.name} assigned above`));
      }
      lhs.add(v.name);
    }
    lhs.forEach((n) => {
      assigned.add(n);
      declared.set(n, 'assigned');
    });
    referenced(t.args[1], seen);
  }
}

/** Adds the vars `t` mentions outside comprehensions (which have their own scope) to `out`. */
function referenced(t: ast.Term | undefined, out: Set<string>): void {
  switch (t?.type) {
    case 'var':
      out.add(t.name);
      break;
    case 'ref':
      referenced(t.head, out);
      t.path.forEach((x) => referenced(x, out));
      break;
    case 'call':
      t.args.forEach((x) => referenced(x, out));
      break;
    case 'array':
    case 'set':
      t.items.forEach((x) => referenced(x, out));
      break;
    case 'object':
      t.entries.forEach(([k, v]) => {
        referenced(k, out);
        referenced(v, out);
      });
      break;
    default:
      break;
  }
}

function visitClosures(t: ast.Term, v1: boolean, diags: Diagnostic[]): void {
  switch (t.type) {
    case 'arraycompr':
    case 'setcompr':
    case 'objectcompr':
      checkBody(t.body, new Set(), v1, diags);
      break;
    case 'call':
      t.args.forEach((a) => visitClosures(a, v1, diags));
      break;
    case 'array':
    case 'set':
      t.items.forEach((a) => visitClosures(a, v1, diags));
      break;
    case 'object':
      t.entries.forEach(([k, v]) => {
        visitClosures(k, v1, diags);
        visitClosures(v, v1, diags);
      });
      break;
    default:
      break;
  }
}

function collect(t: ast.Term | undefined, out: ast.VarTerm[]): void {
  if (t === undefined) return;
  if (t.type === 'var') out.push(t);
  else if (t.type === 'array') t.items.forEach((x) => collect(x, out));
  else if (t.type === 'object') t.entries.forEach(([, v]) => collect(v, out));
}

function patternVars(t: ast.Term, out: Set<string>): void {
  const vars: ast.VarTerm[] = [];
  collect(t, vars);
  vars.forEach((v) => out.add(v.name));
}
