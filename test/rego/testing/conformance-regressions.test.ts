/**
 * Regressions of the conformance harness itself, each named after what it got wrong: cases
 * that failed because of how they were read or judged, not because of the compiler.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { runCase } from '../../../src/rego/conformance/execute.js';
import { parseCaseFile } from '../../../src/rego/conformance/loader.js';
import type { TestToolchain } from '../../../src/rego/testing/runner.js';
import { loadToolchain } from '../../../src/rego/testing/toolchain.js';
import { bool, NULL, num, obj, str } from '../../../src/rego/testing/value.js';

const regorusInfo = {
  file: '/x/regorus/loop/basic.yaml',
  label: 'regorus/loop/basic.yaml',
  suite: 'regorus' as const,
  category: 'regorus/loop',
};

let tools: TestToolchain;
beforeAll(async () => {
  tools = await loadToolchain('value');
});

describe('conformance harness regressions', () => {
  it('keeps the YAML type of regorus want_result keys (regorus/loop/basic.yaml#1)', () => {
    const text = [
      'cases:',
      '  - note: typed keys',
      '    data: {}',
      '    modules: ["package test\\nc[7] := 1\\n"]',
      '    query: data.test.c',
      '    want_result:',
      '      7: 1',
      '      null: true',
      '      "8": 2',
    ].join('\n');
    const [c] = parseCaseFile(text, regorusInfo);
    expect(c?.expect).toEqual({
      kind: 'values',
      values: [
        obj([
          [num(7), num(1)],
          [NULL, bool(true)],
          [str('8'), num(2)],
        ]),
      ],
    });
  });

  it('reports module errors, not the query errors they cause (bindings.yaml#25)', async () => {
    const text = [
      'cases:',
      '  - note: module error first',
      '    data: {}',
      '    modules:',
      '      - |',
      '        package test',
      '        import rego.v1',
      '        pair(name) if {',
      '          name := "alice"',
      '        }',
      '    query: data.test.pair',
      '    error: "var `name` used before definition below"',
    ].join('\n');
    const [c] = parseCaseFile(text, { ...regorusInfo, label: 'regorus/binding/bindings.yaml' });
    const r = await runCase(c!, tools);
    expect(r.status).toBe('pass');
    expect(r.remark).toContain('var name assigned above');
    expect(r.remark).not.toContain('__pgwarden_query');
  });
});
