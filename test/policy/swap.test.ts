import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  BundleManager,
  PolicyEngine,
  type DecisionResult,
  type LoadedBundle,
} from '../../src/policy/index.js';
import { hostBuiltins } from '../../src/rego/index.js';
import { markerBundle, sampleInput, tempDir } from './support.js';

describe('swapping under load', () => {
  it('stamps every decision with the bundle that made it while bundles swap', async () => {
    const dir = await tempDir();
    const path = join(dir, 'bundle.tar.gz');
    const versions = ['v0', 'v1', 'v2', 'v3', 'v4', 'v5'];
    const archives = await Promise.all(versions.map((name) => markerBundle({ name })));
    await writeFile(path, archives[0]!);
    const engine = new PolicyEngine();
    const manager = new BundleManager(engine, {
      source: { kind: 'file', path },
      builtins: hostBuiltins(),
    });
    await manager.reload();

    // Twenty "sessions" decide in a loop, yielding between statements, while the bundle file
    // is replaced and reloaded five times.
    const results: DecisionResult[] = [];
    let running = true;
    const sessions = Array.from({ length: 20 }, async () => {
      while (running) {
        results.push(engine.decide(sampleInput()));
        await new Promise((r) => setImmediate(r));
      }
    });
    const hashes = new Map<string, string>();
    for (const [i, archive] of archives.entries()) {
      if (i > 0) {
        await writeFile(path, archive);
        await manager.reload();
      }
      hashes.set(versions[i]!, engine.active!.stamp.hash);
      await new Promise((r) => setTimeout(r, 30));
    }
    running = false;
    await Promise.all(sessions);

    expect(new Set(hashes.values()).size).toBe(versions.length);
    const seen = new Set<string>();
    for (const result of results) {
      // The reason names the bundle whose policy ran; the stamp must name the same bundle.
      const version = result.reasons[0]!;
      expect(result.bundle).toEqual({ revision: version, hash: hashes.get(version) });
      seen.add(version);
    }
    expect(seen.size).toBe(versions.length);
    expect(results.every((r) => r.allow)).toBe(true);
  });

  it('keeps a decider bound to its bundle after the engine has moved on', async () => {
    const engine = new PolicyEngine();
    const make = async (name: string): Promise<LoadedBundle> => {
      const { loadBundleArchive } = await import('../../src/policy/index.js');
      return loadBundleArchive(await markerBundle({ name }), {
        source: name,
        builtins: hostBuiltins(),
      });
    };
    engine.swap(await make('old'));
    const held = engine.decider();
    engine.swap(await make('new'));
    expect(held.decide(sampleInput()).reasons).toEqual(['old']);
    expect(engine.decide(sampleInput()).reasons).toEqual(['new']);
  });
});
