import { describe, expect, it } from 'vitest';
import { loadPolicy } from '@open-policy-agent/opa-wasm';
import { emitPolicy } from '../../../src/rego/emit.js';
import type * as ir from '../../../src/rego/ir.js';

/** A plan adding {"result": <strings[0]>} to the result set: the smallest useful module. */
function constantPolicy(): ir.Policy {
  return {
    static: { strings: ['result', 'hello'], builtinFuncs: [], files: [] },
    funcs: [],
    plans: [
      {
        name: 'test/constant',
        blocks: [
          {
            stmts: [
              { type: 'MakeObjectStmt', target: 2 },
              {
                type: 'ObjectInsertStmt',
                key: { type: 'string_index', value: 0 },
                value: { type: 'string_index', value: 1 },
                object: 2,
              },
              { type: 'ResultSetAddStmt', value: 2 },
            ],
          },
        ],
      },
    ],
  };
}

describe('runtime linked with a hand-made plan (wasm-link)', () => {
  it('loads and evaluates through opa-wasm loadPolicy/evaluate', async () => {
    const { wasm, entrypoints } = emitPolicy(constantPolicy(), { validate: true });
    expect(entrypoints).toEqual({ 'test/constant': 0 });
    const policy = await loadPolicy(wasm);
    expect(policy.entrypoints).toEqual({ 'test/constant': 0 });
    expect(policy.evaluate({ a: 1 })).toEqual([{ result: 'hello' }]);
    expect(policy.evaluate(undefined, 'test/constant')).toEqual([{ result: 'hello' }]);
  });
});
