import { describe, expect, it } from 'vitest';
import { PolicyEngine, loadBundleArchive } from '../../src/policy/index.js';
import { buildBundle, hostBuiltins } from '../../src/rego/index.js';
import { runRegoTests } from '../../src/rego/testing/command.js';
import { sampleInput } from './support.js';

describe('the shipped policy (rego/pgwarden)', () => {
  it('passes its own tests: pgwarden test rego policy-tests', async () => {
    const { output, exitCode } = await runRegoTests(['rego', 'policy-tests'], {
      format: 'json',
      verbose: false,
      v0Compatible: false,
    });
    const results = JSON.parse(output) as Array<{ name: string; fail?: boolean; error?: unknown }>;
    expect(results.length).toBeGreaterThanOrEqual(40);
    expect(results.filter((r) => r.fail || r.error).map((r) => r.name)).toEqual([]);
    expect(exitCode).toBe(0);
  });

  it('decides through the engine as the gateway calls it', async () => {
    const archive = await buildBundle({
      paths: ['rego'],
      entrypoints: ['pgwarden/decision'],
      revision: 'shipped',
    });
    const engine = new PolicyEngine();
    engine.swap(await loadBundleArchive(archive, { source: 'rego', builtins: hostBuiltins() }));

    const read = engine.decide(sampleInput());
    expect(read).toMatchObject({
      allow: true,
      mask: { 'public.cards.pan': 'pan_last4' },
      approval: null,
      bundle: { revision: 'shipped' },
    });
    expect(read.id).toMatch(/^d-/);

    const bulk = engine.decide(sampleInput({ where: false }));
    expect(bulk.approval).toMatchObject({ approvers: ['approvers'], quorum: 1 });

    const ddl = engine.decide(sampleInput({ kind: 'create_table', tables: [] }));
    expect(ddl.allow).toBe(false);
    expect(ddl.reasons).toContain('DDL (create_table) is refused for CI identities');
  });

  it('decides common statements without calling out to host builtins', async () => {
    // Each host call is a JSON round trip out of the module; the policy keeps them off the
    // common paths to stay within its 20 µs budget (bench/policy.mjs).
    const calls: string[] = [];
    const counted = Object.fromEntries(
      Object.entries(hostBuiltins()).map(([name, fn]) => [
        name,
        (...args: unknown[]) => {
          calls.push(name);
          return (fn as (...a: unknown[]) => unknown)(...args);
        },
      ]),
    );
    const archive = await buildBundle({ paths: ['rego'], entrypoints: ['pgwarden/decision'] });
    const engine = new PolicyEngine();
    engine.swap(await loadBundleArchive(archive, { source: 'rego', builtins: counted }));
    engine.decide(sampleInput());
    engine.decide(sampleInput({ where: false }));
    engine.decide(sampleInput({ kind: 'drop', tables: [] }));
    expect(calls).toEqual([]);
  });

  it('refuses a module needing builtins nobody provides; accepts a factory', async () => {
    const archive = await buildBundle({ paths: ['rego'], entrypoints: ['pgwarden/decision'] });
    await expect(
      loadBundleArchive(archive, { source: 'rego', builtins: {} }),
    ).rejects.toMatchObject({
      code: 'ERR_BUNDLE_INVALID',
      message: expect.stringMatching(/needs builtins pgwarden does not provide: .*sprintf/),
    });
    const factory = hostBuiltins as unknown as Record<string, (...args: unknown[]) => unknown>;
    const bundle = await loadBundleArchive(archive, { source: 'rego', builtins: factory });
    expect(bundle.stamp.hash).toMatch(/^[0-9a-f]{64}$/);
  });
});
