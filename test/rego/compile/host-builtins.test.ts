import { describe, expect, it } from 'vitest';
import { HOST_BUILTINS, hostBuiltins } from '../../../src/rego/builtins/index.js';
import { arith } from '../../../src/rego/builtins/arith.js';

const call = (name: string, ...args: unknown[]): unknown => {
  const fn = HOST_BUILTINS[name];
  if (!fn) throw new Error(`no builtin ${name}`);
  return fn(...args);
};
const text = (v: unknown): string => new TextDecoder().decode(v as ArrayBuffer);

describe('host builtins', () => {
  it('formats with Go verbs', () => {
    expect(
      call('sprintf', '%s=%d %v %q %.2f %5s|%-4d|', ['a', 3, { b: [1] }, 'x', 1.005, 'hi', 7]),
    ).toBe('a=3 {"b": [1]} "x" 1.00    hi|7   |');
    expect(call('sprintf', '%d', [1.5])).toBe('%!d(1.5)');
  });

  it('matches RE2 regular expressions and globs', () => {
    expect(call('regex.match', '(?i)^ab+c$', 'ABBC')).toBe(true);
    expect(call('regex.match', '(', 'x')).toBeUndefined();
    expect(call('regex.find_n', '[0-9]+', 'a1b22c333', 2)).toEqual(['1', '22']);
    expect(call('regex.replace', 'foo-bar', '(\\w+)-(\\w+)', '${2}_$1')).toBe('bar_foo');
    expect(call('regex.split', ',\\s*', 'a, b,c')).toEqual(['a', 'b', 'c']);
    expect(call('glob.match', '*.example.com', ['.'], 'a.b.example.com')).toBe(false);
    expect(call('glob.match', '**.example.com', ['.'], 'a.b.example.com')).toBe(true);
    expect(call('glob.match', '*hub.com', null, 'api.cdn.github.com')).toBe(true);
    expect(call('glob.match', '{cat,[fr]at}', [], 'rat')).toBe(true);
  });

  it('answers net, units, crypto and encoding questions', () => {
    expect(call('net.cidr_contains', '10.0.0.0/8', '10.255.1.1')).toBe(true);
    expect(call('net.cidr_contains', '10.0.0.0/8', '11.0.0.1')).toBe(false);
    expect(call('net.cidr_contains', '2001:db8::/32', '2001:db8:1::1')).toBe(true);
    expect(call('net.cidr_contains', '10.0.0.0/8', '10.1.0.0/16')).toBe(true);
    expect(call('units.parse_bytes', '1.5KiB')).toBe(1536);
    expect(call('units.parse_bytes', '10MB')).toBe(10_000_000);
    expect(call('units.parse_bytes', 'lots')).toBeUndefined();
    expect(call('crypto.md5', 'abc')).toBe('900150983cd24fb0d6963f7d28e17f72');
    expect(call('base64url.decode', 'aGk_')).toBe('hi?');
    expect(call('json.marshal', { b: 1, a: [true] })).toBe('{"a":[true],"b":1}');
    expect(text(call('json.unmarshal', '{"n": 123456789012345678901}'))).toBe(
      '{"n": 123456789012345678901}',
    );
  });

  it('parses UUIDs with exact times', () => {
    expect(text(call('uuid.parse', 'b01d0062-a116-11ee-822b-7ab0b9e5e0c0'))).toBe(
      '{"variant":"RFC4122","version":1,"time":1703282931110717000,"clocksequence":555,' +
        '"nodeid":"7a-b0-b9-e5-e0-c0","macvariables":"local:unicast"}',
    );
    expect(call('uuid.parse', 'not-a-uuid')).toBeUndefined();
  });

  it('handles time in nanoseconds exactly', () => {
    expect(text(call('time.parse_rfc3339_ns', '2026-01-01T00:00:00.123456789+01:00'))).toBe(
      '1767222000123456789',
    );
    expect(call('time.date', 1767225600000000000)).toEqual([2026, 1, 1]);
    expect(call('time.clock', [1767225600000000000, 'America/New_York'])).toEqual([19, 0, 0]);
    expect(text(call('time.parse_duration_ns', '1h30m'))).toBe('5400000000000');
  });

  it('patches and filters JSON documents', () => {
    const doc = { a: { b: [1, 2] } };
    expect(
      call('json.patch', doc, [
        { op: 'add', path: '/a/b/-', value: 3 },
        { op: 'replace', path: '/a/c', value: 1 },
      ]),
    ).toBeUndefined();
    expect(call('json.patch', doc, [{ op: 'add', path: '/a/b/0', value: 0 }])).toEqual({
      a: { b: [0, 1, 2] },
    });
    expect(doc).toEqual({ a: { b: [1, 2] } });
    expect(call('json.filter', { a: { x: 1, y: 2 }, b: 3 }, ['a/x'])).toEqual({ a: { x: 1 } });
    expect(call('json.remove', { a: { x: 1, y: 2 }, b: 3 }, ['a/x', 'b'])).toEqual({ a: { y: 2 } });
    expect(call('strings.replace_n', { '': 'X', a: 'Y' }, 'ab')).toBe('XYXbX');
  });

  it('does exact decimal arithmetic for the module', () => {
    expect(text(arith('+', '0.1', '0.2'))).toBe('0.3');
    expect(text(arith('*', '18446744073709551616', '-3'))).toBe('-55340232221128654848');
    expect(text(arith('/', '1', '8'))).toBe('0.125');
    expect(text(arith('r', '-2.5', '-2.5'))).toBe('-3');
    expect(arith('/', '1', '0')).toBeUndefined();
  });

  it('exposes shadowed builtins under private wire names', () => {
    const wire = hostBuiltins();
    expect(wire['pgwarden.sprintf']).toBe(HOST_BUILTINS.sprintf);
    expect(wire.sprintf).toBeUndefined();
    expect(wire['pgwarden.numbers.arith']).toBe(arith);
  });

  it('keeps JSON json.patch for bundles by opa beside the set-aware one (Rego text in and out)', () => {
    const wire = hostBuiltins();
    expect(wire['json.patch']?.({ a: 1 }, [{ op: 'remove', path: '/a' }])).toEqual({});
    const patch = wire['pgwarden.values.json.patch'];
    expect(patch?.('{"a", "b"}', '[{"op": "remove", "path": ["a"]}]')).toBe('{"b"}');
    expect(patch?.('{"a"}', '[{"op": "remove", "path": ["z"]}]')).toBeUndefined();
    const filter = wire['pgwarden.values.json.filter'];
    expect(filter?.('{"s": {1, 2}, "t": 3}', '[["s", 2]]')).toBe('{"s": {2}}');
  });
});
