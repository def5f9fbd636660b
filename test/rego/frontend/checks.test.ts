import { describe, expect, it } from 'vitest';
import type * as ast from '../../../src/rego/ast.js';
import { formatDiagnostic } from '../../../src/rego/diagnostics.js';
import { parseModule } from '../../../src/rego/parser.js';
import { planPolicy } from '../../../src/rego/planner.js';

function modules(files: Record<string, string>): ast.Module[] {
  return Object.entries(files).map(([file, text]) => {
    const r = parseModule(text, file);
    expect(r.diagnostics.map(formatDiagnostic)).toEqual([]);
    return r.module!;
  });
}

function errors(files: Record<string, string>, entrypoints: string[] = []): string[] {
  const r = planPolicy(modules(files), { entrypoints });
  if (r.diagnostics.length === 0) expect(r.policy).toBeDefined();
  return r.diagnostics.map(formatDiagnostic);
}

describe('safety', () => {
  it('reorders a body so bindings come first', () => {
    expect(errors({ 'a.rego': 'package a\np if { x > 1; y == x; x := 2; y := x }' })).toEqual([]);
  });

  it('reports every unsafe var at its position, across files', () => {
    expect(
      errors({
        'a.rego': 'package a\np if { x > 1 }\nq := y',
        'b.rego': 'package b\nr contains z if { not input.a[z] }\ns := [v | v > 1]',
      }),
    ).toEqual([
      'a.rego:2:8: rego_unsafe_var_error: var x is unsafe',
      'a.rego:3:6: rego_unsafe_var_error: var y is unsafe',
      'b.rego:2:12: rego_unsafe_var_error: var z is unsafe',
      'b.rego:3:11: rego_unsafe_var_error: var v is unsafe',
    ]);
  });

  it('lets refs iterate, := and unification bind, and closures see outer vars', () => {
    expect(
      errors({
        'a.rego': `package a
p contains [i, x] if { x := input.xs[i] }
q if { [a, {"k": b}] = [1, {"k": 2}]; a < b }
r := [y | some y in input.ys; y > n] if n := 1
s if { every v in input.vs { v > m } ; m := 0 }
f(x) := y if y := x
t := f(1)
`,
      }),
    ).toEqual([]);
  });
});

describe('program checks', () => {
  it('names unknown builtins and reports arity mismatches', () => {
    expect(
      errors({ 'a.rego': 'package a\np := no.such(1)\nq := count(1, 2, 3)\nr := upper()' }),
    ).toEqual([
      'a.rego:2:6: rego_type_error: undefined function no.such',
      'a.rego:3:6: rego_type_error: count: arity mismatch: expected 1 arguments, got 3',
      'a.rego:4:6: rego_type_error: upper: arity mismatch: expected 1 arguments, got 0',
    ]);
  });

  it('reports recursion through rules and through data', () => {
    expect(
      errors({ 'a.rego': 'package a\np := q\nq := r\nr := p\ns := data.a.t\nt := data.a' }),
    ).toEqual([
      'a.rego:2:1: rego_recursion_error: rule data.a.p is recursive: ' +
        'data.a.p -> data.a.q -> data.a.r -> data.a.p',
      // s reads data.a.t, whose value is data.a, which holds s.
      'a.rego:5:1: rego_recursion_error: rule data.a.s is recursive: ' +
        'data.a.s -> data.a.t -> data.a -> data.a.s',
      'a.rego:6:1: rego_recursion_error: rule data.a.t is recursive: ' +
        'data.a.t -> data.a -> data.a.t',
    ]);
  });

  it('reports conflicting rule kinds and duplicate defaults', () => {
    expect(
      errors({
        'a.rego':
          'package a\np := 1\np contains 2\ndefault q := 1\ndefault q := 2\n' +
          'f(x) := x\nf(x, y) := x',
      }),
    ).toEqual([
      'a.rego:3:1: rego_type_error: conflicting rules data.a.p found',
      'a.rego:5:1: rego_type_error: multiple default rules data.a.q found',
      'a.rego:7:1: rego_type_error: conflicting rules data.a.f found',
    ]);
  });

  it('checks calls of user functions', () => {
    expect(
      errors({ 'a.rego': 'package a\nf(x) := x\np := f(1, 2, 3)\nq := data.a.f\nr := g(1)' }),
    ).toEqual([
      'a.rego:3:6: rego_type_error: data.a.f: arity mismatch: expected 1 arguments, got 3',
      'a.rego:4:13: rego_type_error: function data.a.f used as a value (call it)',
      'a.rego:5:6: rego_type_error: undefined function g',
    ]);
  });

  it('resolves imports and rules of the same package across files', () => {
    expect(
      errors(
        {
          'a.rego': 'package lib\ndouble(x) := 2 * x\nlimit := 10',
          'b.rego':
            'package app\nimport data.lib\nimport input.user as u\n' +
            'ok if lib.double(u.n) < lib.limit',
        },
        ['app/ok'],
      ),
    ).toEqual([]);
  });
});
