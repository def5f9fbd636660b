import { describe, expect, it } from 'vitest';
import type * as ast from '../../../src/rego/ast.js';
import { formatDiagnostic } from '../../../src/rego/diagnostics.js';
import { parseModule, parseQuery, parseTerm } from '../../../src/rego/parser.js';

/** A compact rendering of terms, enough to pin the parse tree's shape. */
function show(t: ast.Term): string {
  switch (t.type) {
    case 'null':
      return 'null';
    case 'boolean':
    case 'number':
      return String(t.value);
    case 'string':
      return JSON.stringify(t.value);
    case 'var':
      return t.name;
    case 'ref':
      return show(t.head) + t.path.map((p) => `[${show(p)}]`).join('');
    case 'array':
      return `[${t.items.map(show).join(', ')}]`;
    case 'set':
      return `{${t.items.map(show).join(', ')}}`;
    case 'object':
      return `{${t.entries.map(([k, v]) => `${show(k)}: ${show(v)}`).join(', ')}}`;
    case 'call': {
      const op = t.operator;
      const name = [show(op.head), ...op.path.map((p) => (p.type === 'string' ? p.value : '?'))];
      return `${name.join('.')}(${t.args.map(show).join(', ')})`;
    }
    case 'arraycompr':
      return `[${show(t.term)} | ${t.body.map(showExpr).join('; ')}]`;
    case 'setcompr':
      return `{${show(t.term)} | ${t.body.map(showExpr).join('; ')}}`;
    case 'objectcompr':
      return `{${show(t.key)}: ${show(t.value)} | ${t.body.map(showExpr).join('; ')}}`;
  }
}

function showExpr(e: ast.Expr): string {
  const neg = e.negated ? 'not ' : '';
  const withs = e.with.map((w) => ` with ${show(w.target)} as ${show(w.value)}`).join('');
  switch (e.kind) {
    case 'term':
      return neg + show(e.term) + withs;
    case 'some':
      return `some ${e.vars.map(show).join(', ')}`;
    case 'somein':
      return `some ${e.key ? show(e.key) + ', ' : ''}${show(e.value)} in ${show(e.collection)}`;
    case 'every': {
      const vars = `${e.key ? show(e.key) + ', ' : ''}${show(e.value)}`;
      return `every ${vars} in ${show(e.domain)} {${e.body.map(showExpr).join('; ')}}`;
    }
  }
}

function showRule(r: ast.Rule): string {
  const h = r.head;
  const parts = [r.default ? 'default ' : '', r.kind, ' ', h.ref.map(show).join('.')];
  if (h.args) parts.push(`(${h.args.map(show).join(', ')})`);
  if (h.key) parts.push(` contains ${show(h.key)}`);
  if (h.value) parts.push(` = ${show(h.value)}`);
  parts.push(` if ${r.body.map(showExpr).join('; ')}`);
  if (r.else) parts.push(` ELSE ${showRule(r.else)}`);
  return parts.join('');
}

function rules(text: string, v0 = false): string[] {
  const r = parseModule(text, 'x.rego', { v0 });
  expect(r.diagnostics.map(formatDiagnostic)).toEqual([]);
  return r.module!.rules.map(showRule);
}

describe('parseModule (v1)', () => {
  it('parses the rule kinds of Rego v1', () => {
    const out = rules(`package a.b
import rego.v1
default allow := false
allow if input.x == 1
p contains x if some x in input.xs
q[k] := v if { some k, v in input.o }
a.b.c := 1
r[x].y contains z if { x := 1; z := 2 }
f(x) := y if y := x + 1
f(1) := 2
`);
    expect(out).toEqual([
      'default complete allow = false if true',
      'complete allow = true if equal(input["x"], 1)',
      'partialSet p contains x if some x in input["xs"]',
      'partialObject q.k = v if some k, v in input["o"]',
      'complete a."b"."c" = 1 if true',
      'partialSet r.x."y" contains z if assign(x, 1); assign(z, 2)',
      'function f(x) = y if assign(y, plus(x, 1))',
      'function f(1) = 2 if true',
    ]);
  });

  it('parses else chains, with, negation, every and comprehensions', () => {
    const out = rules(`package a
p := 1 if input.a else := 2 if input.b else := 3
q if not input.x with input as {"x": false}
e if every k, v in [1] { v > k }
c := [x | x := input.ys[_]; x > 1]
s := {x | some x in input.ys}
o := {k: v | some k, v in input.o}
`);
    expect(out).toEqual([
      'complete p = 1 if input["a"] ELSE complete p = 2 if input["b"] ELSE complete p = 3 if true',
      'complete q = true if not input["x"] with input as {"x": false}',
      'complete e = true if every k, v in [1] {gt(v, k)}',
      'complete c = [x | assign(x, input["ys"][$_0]); gt(x, 1)] if true',
      'complete s = {x | some x in input["ys"]} if true',
      'complete o = {k: v | some k, v in input["o"]} if true',
    ]);
  });

  it('applies operator precedence like OPA', () => {
    const out = rules(`package a
p := 1 + 2 * 3 - -4
q if 1 + 1 == 2
r := {1, 2} | {3} & {4}
m if 1 in {1}
k if (0, 2 in [2]) in [true]
`);
    expect(out).toEqual([
      'complete p = minus(plus(1, mul(2, 3)), -4) if true',
      'complete q = true if equal(plus(1, 1), 2)',
      'complete r = or({1, 2}, and({3}, {4})) if true',
      'complete m = true if internal.member_2(1, {1})',
      'complete k = true if internal.member_2(internal.member_3(0, 2, [2]), [true])',
    ]);
  });

  it('requires if before a body in v1 and reports every broken rule', () => {
    const r = parseModule('package a\np { true }\nq := ]\nr if { 1 }\ns := [1,\n', 'bad.rego');
    expect(r.module).toBeUndefined();
    expect(r.diagnostics.map(formatDiagnostic)).toEqual([
      'bad.rego:2:3: rego_parse_error: `if` keyword is required before rule body',
      'bad.rego:3:6: rego_parse_error: unexpected token ]',
      'bad.rego:6:1: rego_parse_error: unexpected eof',
    ]);
  });
});

describe('parseModule (v0)', () => {
  it('accepts v0 syntax: bodies without if and p[x] partial sets', () => {
    const out = rules(
      `package a
p[x] { x := input.xs[_] }
q = y { y := 1 }
allow { true }
o[k] = v { v := input.o[k] }
`,
      true,
    );
    expect(out).toEqual([
      'partialSet p contains x if assign(x, input["xs"][$_0])',
      'complete q = y if assign(y, 1)',
      'complete allow = true if true',
      'partialObject o.k = v if assign(v, input["o"][k])',
    ]);
  });

  it('splits chained bodies into rules with the same head', () => {
    expect(rules('package a\np { input.a } { input.b }\n', true)).toEqual([
      'complete p = true if input["a"]',
      'complete p = true if input["b"]',
    ]);
  });

  it('rejects non-constant default values and `with` on rule heads', () => {
    const r = parseModule('package a\ndefault p := input.x\nq := 1 with input as 2\n', 'd.rego');
    expect(r.diagnostics.map(formatDiagnostic)).toEqual([
      'd.rego:2:9: rego_parse_error: default rule value cannot contain ref',
      'd.rego:3:8: rego_parse_error: expressions using with keyword cannot be used for rule head',
    ]);
  });

  it('treats future keywords as keywords only once imported', () => {
    const plain = parseModule('package a\ncontains := 1', 'x.rego', { v0: true });
    expect(plain.diagnostics).toEqual([]);
    const out = rules(
      'package a\nimport future.keywords.in\nimport future.keywords.if\np if 1 in [1]\n',
      true,
    );
    expect(out).toEqual(['complete p = true if internal.member_2(1, [1])']);
  });
});

describe('parseQuery and parseTerm', () => {
  it('parses a query into body expressions', () => {
    const r = parseQuery('data.p.q = x; y := count(x)\nnot z', 'q.rego');
    expect(r.body!.map(showExpr)).toEqual([
      'eq(data["p"]["q"], x)',
      'assign(y, count(x))',
      'not z',
    ]);
  });

  it('parses terms with sets and nested collections', () => {
    expect(show(parseTerm('{"foo": {{1}}, "n": [null, -1.5]}', 't').term!)).toBe(
      '{"foo": {{1}}, "n": [null, -1.5]}',
    );
    expect(show(parseTerm('set()', 't').term!)).toBe('{}');
    expect(parseTerm('{1,', 't').diagnostics[0]).toMatchObject({ line: 1, col: 4 });
  });
});
