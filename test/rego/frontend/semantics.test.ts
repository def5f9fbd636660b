/**
 * The planner's semantics checked end to end: each policy is compiled (parse -> plan ->
 * emit), loaded into OPA's own SDK and evaluated. Expected values are what OPA gives.
 */
import { describe, expect, it } from 'vitest';
import { compileRego } from '../../../src/rego/compile.js';
import { formatDiagnostic } from '../../../src/rego/diagnostics.js';
import { loadCompiledPolicy } from '../../../src/rego/load.js';

interface Case {
  name: string;
  rego: string;
  entry?: string;
  input?: unknown;
  data?: unknown;
  /** The entrypoint's value; undefined = the entrypoint is undefined. */
  want?: unknown;
  /** A substring of the evaluation error. */
  error?: string;
  /** Compile as Rego v0. */
  v0?: boolean;
}

const cases: Case[] = [
  {
    name: 'complete rule with default',
    rego: 'package t\ndefault p := false\np if input.x == 1',
    input: { x: 2 },
    want: false,
  },
  {
    name: 'else chain picks the first matching body',
    rego: 'package t\np := "a" if input.x > 10 else := "b" if input.x > 0 else := "c"',
    input: { x: 5 },
    want: 'b',
  },
  {
    name: 'partial set and object rules',
    rego: `package t
names contains u.name if some u in input.users
ids[u.name] := u.id if some u in input.users
p := {"n": names, "i": ids}`,
    input: {
      users: [
        { name: 'a', id: 1 },
        { name: 'b', id: 2 },
      ],
    },
    want: { n: ['a', 'b'], i: { a: 1, b: 2 } },
  },
  {
    name: 'multi-segment ref heads build nested objects',
    rego: `package t
a.b.c := 1
a.b.d := 2
g[r].can contains x if { some r, xs in input.g; some x in xs }
p := {"a": a, "g": g}`,
    input: { g: { admin: ['read', 'write'], dev: ['read'] } },
    want: {
      a: { b: { c: 1, d: 2 } },
      g: { admin: { can: ['read', 'write'] }, dev: { can: ['read'] } },
    },
  },
  {
    name: 'functions with several definitions and patterns',
    rego: `package t
f(1) := "one"
f(x) := "big" if x > 100
g([a, b]) := a + b
p := [f(1), f(200), g([2, 3])]`,
    want: ['one', 'big', 5],
  },
  {
    name: 'comprehensions, some/in, every and negation',
    rego: `package t
evens := [x | some x in input.xs; x % 2 == 0]
byk := {k: v | some k, v in input.o; v > 1}
pos if every x in input.xs { x > 0 }
none_neg if not any_neg
any_neg if input.xs[_] < 0
p := [evens, byk, pos, none_neg]`,
    input: { xs: [1, 2, 4], o: { a: 1, b: 2 } },
    want: [[2, 4], { b: 2 }, true, true],
  },
  {
    name: 'unification with array and object patterns, out of order',
    rego: `package t
p := [a, b, c] if {
  c == 3
  [a, {"k": b}] = [1, {"k": 2}]
  {"z": c} = input.o
}`,
    input: { o: { z: 3 } },
    want: [1, 2, 3],
  },
  {
    name: 'iteration over data mixes base and virtual documents',
    rego: `package t
sub.v := 1
sub.w contains 2
keys := {k | data.t.sub[k]}
vals := [x | x := data.t.sub[_]]
p := [keys, count(vals)]`,
    data: { t: { sub: { base: { x: 1 } } } },
    want: [['base', 'v', 'w'], 3],
  },
  {
    name: 'with replaces input, data, virtual documents and functions',
    rego: `package t
q := input.x
r := data.t.v
v := 1
f(x) := x + 1
p := [a, b, c, d] if {
  a := q with input.x as 7
  b := r with data.t.v as 8
  c := f(1) with f as 10
  d := input.x
}`,
    input: { x: 1 },
    want: [7, 8, 10, 1],
  },
  {
    name: 'complete rule conflict is an error',
    rego: 'package t\np := x if some x in [1, 2]',
    error: 'complete rules must not produce multiple outputs',
  },
  {
    name: 'with on a virtual document reaches rules that depend on it',
    rego: `package t
limit := 10
ok if input.n < limit
strict if ok
p := [a, b] if {
  a := count([1 | strict]) with limit as 1
  b := count([1 | strict])
}`,
    input: { n: 5 },
    want: [0, 1],
  },
  {
    name: 'with replaces a builtin by another builtin or a value',
    rego: `package t
n := count(input.xs)
p := [a, b, n] if {
  a := n with count as sum
  b := n with count as 42
}`,
    input: { xs: [2, 3] },
    want: [5, 42, 2],
  },
  {
    name: 'print never changes the result',
    rego: 'package t\np := x if { x := 1; print("x is", x, input.missing) }',
    want: 1,
  },
  {
    name: 'integer keys on base data find object keys and array indexes',
    rego: 'package t\np := [data.o[2], data.a[1]]',
    data: { o: { '2': 'two' }, a: [5, 6] },
    want: ['two', 6],
  },
  {
    name: 'a package reads as an object merged with base data',
    rego: 'package t\nsub.x := 1\np := data.t.sub',
    data: { t: { sub: { y: 2 } } },
    want: { x: 1, y: 2 },
  },
  {
    name: 'v0 syntax compiles with v0Compatible',
    v0: true,
    rego: `package t
s[x] { x := input.xs[_] }
o[k] = v { v := input.o[k] }
p = [s, o, a] { a := allow }
allow { true }`,
    input: { xs: [1], o: { k: 'v' } },
    want: [[1], { k: 'v' }, true],
  },
  {
    name: 'undefined stays undefined',
    rego: 'package t\np := input.missing.deeper',
    want: undefined,
  },
];

describe('planner semantics through opa-wasm', () => {
  for (const c of cases) {
    it(c.name, async () => {
      const entry = c.entry ?? 't/p';
      const r = compileRego([{ file: 't.rego', text: c.rego }], {
        entrypoints: [entry],
        v0Compatible: c.v0 === true,
      });
      expect(r.diagnostics.map(formatDiagnostic)).toEqual([]);
      const policy = await loadCompiledPolicy(r.wasm!, c.data ?? {});
      const run = (): unknown => policy.evaluate(c.input ?? {}, entry);
      if (c.error !== undefined) {
        expect(run).toThrow(c.error);
        return;
      }
      const rows = run() as Array<{ result: unknown }>;
      if (c.want === undefined) expect(rows).toEqual([]);
      else expect(rows).toEqual([{ result: c.want }]);
    });
  }
});
