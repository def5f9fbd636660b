/**
 * Declaration checks OPA makes at compile time: a var declared twice with `:=` in one body
 * ("var x assigned above"), `:=` to something that is not a var or a pattern, and, in Rego v1, `input` or `data` shadowed by a rule or a local.
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
  for (const e of body) {
    if (e.kind === 'every') {
      checkBody(e.body, new Set(), v1, diags);
      continue;
    }
    if (e.kind !== 'term') continue;
    visitClosures(e.term, v1, diags);
    const t = e.term;
    if (t.type !== 'call' || opName(t) !== 'assign') continue;
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
    lhs.forEach((n) => assigned.add(n));
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
