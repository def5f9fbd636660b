import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { policySchema } from '../../src/config/schema-policy.js';
import { startPolicy, type BundleEvent, type ShadowDivergence } from '../../src/policy/index.js';
import { buildBundle, hostBuiltins } from '../../src/rego/index.js';
import { keyFiles, markerBundle, policyDir, sampleInput, tempDir } from './support.js';

describe('startPolicy (the policy configuration section)', () => {
  it('loads a signed bundle and a shadow candidate as configured', async () => {
    const dir = await tempDir();
    const keys = await keyFiles('ec');
    await writeFile(
      join(dir, 'live.tgz'),
      await markerBundle({ name: 'live' }, { signingKey: keys.privateFile, keyId: 'ci' }),
    );
    await writeFile(
      join(dir, 'next.tgz'),
      await markerBundle({ name: 'next', allow: false }, { signingKey: keys.privateFile }),
    );
    const policy = policySchema(dir).parse({
      bundle: { file: 'live.tgz' },
      shadow: { file: 'next.tgz' },
      signing: { required: true, key_file: keys.publicFile, alg: 'ES256', key_id: 'ci' },
    });
    const events: BundleEvent[] = [];
    const divergences: ShadowDivergence[] = [];
    const { engine, bundles } = await startPolicy({
      policy,
      builtins: hostBuiltins(),
      onEvent: (e) => events.push(e),
      onDivergence: (d) => divergences.push(d),
    });
    try {
      expect(events.map((e) => `${e.slot}:${e.event}`).sort()).toEqual([
        'active:loaded',
        'shadow:loaded',
      ]);
      expect(events.find((e) => e.slot === 'active')).toMatchObject({ keyId: 'ci' });
      expect(engine.decide(sampleInput())).toMatchObject({ allow: true, reasons: ['live'] });
      await engine.shadowIdle();
      expect(divergences).toHaveLength(1);
      expect(bundles!.status()).toMatchObject({
        active: { revision: 'live', signed: true },
        shadow: { bundle: { revision: 'next' }, divergences: 1 },
      });
    } finally {
      bundles?.close();
    }
  });

  it('refuses unsigned bundles when signing is required', async () => {
    const dir = await tempDir();
    const keys = await keyFiles('rsa');
    await writeFile(join(dir, 'b.tgz'), await markerBundle({ name: 'unsigned' }));
    const policy = policySchema(dir).parse({
      bundle: { file: 'b.tgz' },
      signing: { required: true, key_file: keys.publicFile },
    });
    const { engine, bundles } = await startPolicy({ policy, builtins: hostBuiltins() });
    bundles?.close();
    expect(bundles!.status().last_error?.message).toMatch(/not signed/);
    expect(engine.decide(sampleInput()).reasons).toEqual(['no policy bundle is loaded']);
  });

  it('compiles a dir source and refuses everything without a bundle section', async () => {
    const dir = await policyDir({ name: 'from-dir' });
    const policy = policySchema(dir).parse({ bundle: { dir: '.' } });
    const { engine, bundles } = await startPolicy({
      policy,
      builtins: hostBuiltins(),
      buildDir: (path, { v0Compatible }) =>
        buildBundle({ paths: [path], entrypoints: [policy.entrypoint], v0Compatible }),
    });
    bundles?.close();
    expect(engine.decide(sampleInput()).reasons).toEqual(['from-dir']);

    const none = await startPolicy({ policy: policySchema(dir).parse({}), builtins: {} });
    expect(none.bundles).toBeNull();
    expect(none.engine.decide(sampleInput()).allow).toBe(false);
  });
});
