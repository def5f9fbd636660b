import { describe, expect, it } from 'vitest';
import { runtimeHarness } from './harness.js';

const rt = runtimeHarness();

/** Calls runtime builtin `fn` on Rego value texts and returns the result's Rego text. */
function call(fn: string, ...args: string[]): string | undefined {
  rt.reset();
  const out = rt.fn(fn)(...args.map((a) => rt.parse(a, true)));
  return out === 0 ? undefined : rt.dump(out, true);
}

describe('runtime builtins', () => {
  it('walks documents in OPA order', () => {
    expect(call('rt_walk', '{"b": [1], "a": 2}')).toBe(
      '[[[],{"a":2,"b":[1]}],[["a"],2],[["b"],[1]],[["b",0],1]]',
    );
  });

  it('aggregates and sorts', () => {
    expect(call('rt_sum', '{1, 2, 3}')).toBe('6');
    expect(call('rt_sum', 'set()')).toBe('0');
    expect(call('rt_sum', '"x"')).toBeUndefined();
    expect(call('rt_max', '[]')).toBeUndefined();
    expect(call('rt_sort', '[3, "a", null, [1], 1]')).toBe('[null,1,3,"a",[1]]');
    expect(call('rt_count', '"héllo"')).toBe('5');
  });

  it('works on strings by code point', () => {
    expect(call('rt_substring', '"héllo"', '1', '3')).toBe('"éll"');
    expect(call('rt_indexof', '"héllo"', '"l"')).toBe('2');
    expect(call('rt_trim', '"xxhixx"', '"x"')).toBe('"hi"');
    expect(call('rt_split', '"a,b,,c"', '","')).toBe('["a","b","","c"]');
    expect(call('rt_replace', '"aaa"', '"a"', '"bb"')).toBe('"bbbbbb"');
    expect(call('rt_lower', '"AbC"')).toBe('"abc"');
    expect(call('rt_lower', '"ÀB"')).toBeUndefined(); // left to the host's Unicode mapping
    expect(call('rt_concat', '"-"', '{"b", "a"}')).toBe('"a-b"');
    expect(call('rt_format_int', '-255', '16')).toBe('"-ff"');
  });

  it('operates on objects, arrays and sets', () => {
    expect(call('rt_object_union', '{"a": {"x": 1}, "b": 1}', '{"a": {"y": 2}}')).toBe(
      '{"a":{"x":1,"y":2},"b":1}',
    );
    expect(call('rt_object_remove', '{"a": 1, "b": 2}', '["a"]')).toBe('{"b":2}');
    expect(call('rt_object_get', '{"a": {"b": 1}}', '["a", "b"]', '0')).toBe('1');
    expect(call('rt_array_slice', '[1, 2, 3, 4]', '-1', '2')).toBe('[1,2]');
    expect(call('rt_minus', '{1, 2, 3}', '{2}')).toBe('{1,3}');
    expect(call('rt_and', '{1, 2}', '{2, 3}')).toBe('{2}');
    expect(call('rt_member_2', '2', '{"a": 2}')).toBe('true');
    expect(call('rt_numbers_range', '3', '1')).toBe('[3,2,1]');
  });

  it('does 64-bit integer and double arithmetic without a host', () => {
    expect(call('rt_plus', '9007199254740993', '1')).toBe('9007199254740994');
    expect(call('rt_mul', '3', '0.5')).toBe('1.5');
    expect(call('rt_div', '1', '0')).toBeUndefined();
    expect(call('rt_rem', '-7', '3')).toBe('-1');
    expect(call('rt_round', '2.5')).toBe('3');
  });
});
