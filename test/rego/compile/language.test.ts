import { describe, expect, it } from 'vitest';
import { compileRego } from '../../../src/rego/compile.js';
import { evaluateText, loadCompiledPolicy } from '../../../src/rego/load.js';
import { compileAndLoad, value } from './helpers.js';

describe('compiled policies evaluate like OPA', () => {
  it('handles defaults, partial sets, objects, functions and comprehensions', async () => {
    const p = await compileAndLoad(
      `package t
import rego.v1
default allow := false
allow if input.user == "alice"
roles contains r if some r in data.roles[input.user]
perms[r] := n if { some r in roles; n := count(r) }
double(x) := y if y := x * 2
doubled := [double(n) | some n in input.nums]
total := sum(input.nums)
big if input.nums[_] > 2
evens := {n | some n in input.nums; n % 2 == 0}
none_negative if every n in input.nums { n >= 0 }
not_bob if not input.user == "bob"
`,
      [
        't/allow',
        't/roles',
        't/perms',
        't/doubled',
        't/total',
        't/big',
        't/evens',
        't/none_negative',
        't/not_bob',
      ],
      { roles: { alice: ['admin', 'dev'] } },
    );
    const input = { user: 'alice', nums: [1, 2, 3, 4] };
    expect(value(p, 't/allow', input)).toBe(true);
    expect(value(p, 't/allow', { user: 'bob' })).toBe(false);
    expect(value(p, 't/roles', input)).toEqual(['admin', 'dev']);
    expect(value(p, 't/perms', input)).toEqual({ admin: 5, dev: 3 });
    expect(value(p, 't/doubled', input)).toEqual([2, 4, 6, 8]);
    expect(value(p, 't/total', input)).toBe(10);
    expect(value(p, 't/big', input)).toBe(true);
    expect(value(p, 't/evens', input)).toEqual([2, 4]);
    expect(value(p, 't/none_negative', input)).toBe(true);
    expect(value(p, 't/none_negative', { nums: [1, -1] })).toBeUndefined();
    expect(value(p, 't/not_bob', input)).toBe(true);
    expect(value(p, 't/not_bob', { user: 'bob' })).toBeUndefined();
  });

  it('runs else chains, with, and conflicts as runtime errors', async () => {
    const p = await compileAndLoad(
      `package t
import rego.v1
level := "high" if input.n > 10 else := "mid" if input.n > 5 else := "low"
check if data.flag == true
mocked if check with data.flag as true
conflict := 1 if input.a
conflict := 2 if input.b
`,
      ['t/level', 't/mocked', 't/conflict'],
      { flag: false },
    );
    expect(value(p, 't/level', { n: 20 })).toBe('high');
    expect(value(p, 't/level', { n: 7 })).toBe('mid');
    expect(value(p, 't/level', { n: 1 })).toBe('low');
    expect(value(p, 't/mocked', {})).toBe(true);
    expect(value(p, 't/conflict', { a: true })).toBe(1);
    expect(() => p.evaluate({ a: true, b: true }, 't/conflict')).toThrow(
      /multiple outputs|conflict/,
    );
  });

  it('calls runtime and host builtins', async () => {
    const p = await compileAndLoad(
      `package t
import rego.v1
out := {
  "upper": upper(input.s),
  "split": split(input.s, ","),
  "fmt": sprintf("%s has %d items: %v", [input.s, count(input.xs), input.xs]),
  "re": regex.match("^a[0-9]+$", "a123"),
  "glob": glob.match("*.example.com", ["."], "api.example.com"),
  "cidr": net.cidr_contains("10.0.0.0/8", "10.1.2.3"),
  "bytes": units.parse_bytes("10KiB"),
  "sha": crypto.sha256("abc"),
  "b64": base64.encode("hi"),
  "json": json.unmarshal("{\\"a\\": [1, 2]}"),
  "ts": time.parse_rfc3339_ns("2026-01-01T00:00:00Z"),
  "wd": time.weekday(time.parse_rfc3339_ns("2026-01-01T00:00:00Z")),
  "obj": object.get(input, ["nested", "k"], "none"),
  "sorted": sort(input.xs),
  "fmtint": format_int(255, 16),
  "sub": substring("héllo", 1, 3),
}
`,
      ['t/out'],
    );
    expect(value(p, 't/out', { s: 'a,b', xs: [3, 1, 2], nested: { k: 'v' } })).toEqual({
      upper: 'A,B',
      split: ['a', 'b'],
      fmt: 'a,b has 3 items: [3, 1, 2]',
      re: true,
      glob: true,
      cidr: true,
      bytes: 10240,
      sha: 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
      b64: 'aGk=',
      json: { a: [1, 2] },
      ts: 1767225600000000000,
      wd: 'Thursday',
      obj: 'v',
      sorted: [1, 2, 3],
      fmtint: 'ff',
      sub: 'éll',
    });
  });
});

describe('numbers', () => {
  it('computes big integers and decimals exactly (host arithmetic)', async () => {
    const p = await compileAndLoad(
      `package n
import rego.v1
out := {
  "big_add": 9223372036854775807 + 1,
  "big_mul": 18446744073709551616 * 3,
  "dec": 0.1 + 0.2,
  "third": 10 / 4,
  "repeating": 10 / 3,
  "sum": sum([9223372036854775807, 9223372036854775807]),
  "round": round(-2.5),
  "ceil": ceil(1.2),
  "rem": 18446744073709551617 % 10,
  "small": 7 * 6,
}
`,
      ['n/out'],
    );
    // Raw result text: every digit must survive, so no JSON.parse in between.
    const text = evaluateText(p, undefined, 'n/out');
    expect(text).toBe(
      '[{"result":{"big_add":9223372036854775808,"big_mul":55340232221128654848,' +
        '"ceil":2,"dec":0.3,"rem":7,"repeating":3.3333333333333335,"round":-3,' +
        '"small":42,"sum":18446744073709551614,"third":2.5}}]',
    );
  });
});

describe('iteration order', () => {
  it('iterates objects and sets in sorted order, stably across evaluations', async () => {
    const p = await compileAndLoad(
      `package o
import rego.v1
keys := [k | some k, _ in data.things]
local := [k | some k, _ in {"b": 1, "a": 2, "c": 3}]
joined := concat(",", {x | some x in input.xs})
`,
      ['o/keys', 'o/local', 'o/joined'],
      { things: { zeta: 1, alpha: 2, mid: 3 } },
    );
    for (let i = 0; i < 3; i++) {
      expect(value(p, 'o/keys', {})).toEqual(['alpha', 'mid', 'zeta']);
      expect(value(p, 'o/local', {})).toEqual(['a', 'b', 'c']);
      expect(value(p, 'o/joined', { xs: ['q', 'b', 'q', 'a'] })).toBe('a,b,q');
    }
  });
});

describe('large documents', () => {
  it('looks up and iterates data with many keys while memory grows', async () => {
    const users: Record<string, { roles: string[] }> = {};
    for (let i = 0; i < 20000; i++) users[`user${i}`] = { roles: [`r${i % 7}`, 'all'] };
    const p = await compileAndLoad(
      `package big
import rego.v1
roles := data.users[input.user].roles
admins := count([u | some u, x in data.users; "r3" in x.roles])
`,
      ['big/roles', 'big/admins'],
      { users },
    );
    expect(value(p, 'big/roles', { user: 'user19999' })).toEqual(['r0', 'all']);
    expect(value(p, 'big/roles', { user: 'nobody' })).toBeUndefined();
    expect(value(p, 'big/admins', {})).toBe(2857);
    const input = { user: 'user5', pad: 'x'.repeat(400_000) };
    expect(value(p, 'big/roles', input)).toEqual(['r5', 'all']);
  });
});

describe('strict builtin errors', () => {
  it('raises OPA-worded errors instead of undefined when compiled strict', async () => {
    const text = `package s
import rego.v1
c := count(input.x)
d := 1 / input.n
m := max(input.xs)
`;
    const strict = compileRego([{ file: 's.rego', text }], {
      entrypoints: ['s/c', 's/d', 's/m'],
      strictBuiltinErrors: true,
    });
    const lax = compileRego([{ file: 's.rego', text }], { entrypoints: ['s/c', 's/d', 's/m'] });
    const ps = await loadCompiledPolicy(strict.wasm as Uint8Array);
    const pl = await loadCompiledPolicy(lax.wasm as Uint8Array);
    expect(() => ps.evaluate({ x: 5 }, 's/c')).toThrow(
      'count: operand 1 must be one of {array, object, set, string} but got number',
    );
    expect(() => ps.evaluate({ n: 0 }, 's/d')).toThrow('div: divide by zero');
    expect(ps.evaluate({ xs: [] }, 's/m')).toEqual([]);
    expect(pl.evaluate({ x: 5 }, 's/c')).toEqual([]);
    expect(pl.evaluate({ n: 0 }, 's/d')).toEqual([]);
  });
});

describe('time with exact nanoseconds', () => {
  it('formats, parses and diffs times in Go layouts without losing digits', async () => {
    const p = await compileAndLoad(
      `package tm
import rego.v1
out := [
  time.format(1703444325734390001),
  time.format([1703444325734390000, "America/New_York", "2006-01-02 03:04PM MST"]),
  time.parse_ns("2006-01-02", "2020-02-02"),
  time.parse_ns("RFC3339", "2023-12-24T18:58:45.734390001Z"),
  time.diff(1703444325734390000, 1257894000000000000),
  time.add_date(1703444325734390001, 1, 0, 0),
]
`,
      ['tm/out'],
    );
    expect(evaluateText(p, undefined, 'tm/out')).toBe(
      '[{"result":["2023-12-24T18:58:45.734390001Z","2023-12-24 01:58PM EST",' +
        '1580601600000000000,1703444325734390001,[14,1,13,19,58,45],1735066725734390001]}]',
    );
  });
});
