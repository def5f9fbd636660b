import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  BundleManager,
  PolicyEngine,
  loadBundleArchive,
  type LoadedBundle,
  type ShadowDivergence,
} from '../../src/policy/index.js';
import { hostBuiltins } from '../../src/rego/index.js';
import { markerBundle, sampleInput, tempDir } from './support.js';

async function load(marker: Parameters<typeof markerBundle>[0]): Promise<LoadedBundle> {
  return loadBundleArchive(await markerBundle(marker), {
    source: marker.name,
    builtins: hostBuiltins(),
  });
}

describe('shadow mode', () => {
  let active: LoadedBundle;
  let same: LoadedBundle;
  let denies: LoadedBundle;
  let masks: LoadedBundle;
  let holds: LoadedBundle;

  beforeAll(async () => {
    [active, same, denies, masks, holds] = await Promise.all([
      load({ name: 'active' }),
      load({ name: 'same' }),
      load({ name: 'denies', allow: false }),
      load({ name: 'masks', masked: ['public.cards.pan'] }),
      load({ name: 'holds', hold: true }),
    ]);
  });

  function engineWith(shadow: LoadedBundle | null) {
    const divergences: ShadowDivergence[] = [];
    const engine = new PolicyEngine({ onDivergence: (d) => divergences.push(d) });
    engine.swap(active);
    engine.setShadow(shadow);
    return { engine, divergences };
  }

  it('records nothing when the candidate decides alike (reasons may differ)', async () => {
    const { engine, divergences } = engineWith(same);
    for (let i = 0; i < 20; i++) engine.decide(sampleInput());
    await engine.shadowIdle();
    expect(divergences).toEqual([]);
    expect(engine.shadowStats()).toMatchObject({ evaluated: 20, divergences: 0, dropped: 0 });
  });

  it('enforces the active decision and records each divergence with both sides', async () => {
    const { engine, divergences } = engineWith(denies);
    const input = sampleInput({ id: 's-42', fingerprint: 'fp-42' });
    const result = engine.decide(input);
    expect(result).toMatchObject({ allow: true, bundle: active.stamp });
    await engine.shadowIdle();
    expect(divergences).toHaveLength(1);
    expect(divergences[0]).toMatchObject({
      statement_id: 's-42',
      fingerprint: 'fp-42',
      subject: input.identity.subject,
      differs: ['allow'],
      active: { allow: true, decision_id: result.id, bundle: active.stamp },
      shadow: { allow: false, reasons: ['denies'], bundle: denies.stamp },
    });
  });

  it('tells mask and approval differences apart', async () => {
    const masking = engineWith(masks);
    masking.engine.decide(sampleInput());
    await masking.engine.shadowIdle();
    expect(masking.divergences.map((d) => d.differs)).toEqual([['mask']]);
    expect(masking.divergences[0]!.shadow.mask).toEqual({ 'public.cards.pan': 'redact' });

    const holding = engineWith(holds);
    holding.engine.decide(sampleInput());
    await holding.engine.shadowIdle();
    expect(holding.divergences.map((d) => d.differs)).toEqual([['approval']]);
  });

  it('evaluates the input as it was at decision time', async () => {
    const { engine, divergences } = engineWith(denies);
    const input = sampleInput({ id: 's-1' });
    engine.decide(input);
    input.statement.id = 's-changed';
    await engine.shadowIdle();
    expect(divergences[0]!.statement_id).toBe('s-1');
  });

  it('drops shadow work beyond the queue limit instead of growing', async () => {
    const engine = new PolicyEngine({ shadowQueueLimit: 5 });
    engine.swap(active);
    engine.setShadow(denies);
    for (let i = 0; i < 12; i++) engine.decide(sampleInput());
    await engine.shadowIdle();
    expect(engine.shadowStats()).toMatchObject({ evaluated: 5, divergences: 5, dropped: 7 });
  });

  it('gives a new decider on every swap, so prepared statements can be decided again', () => {
    const { engine } = engineWith(null);
    const before = engine.decider();
    expect(engine.decider()).toBe(before);
    engine.setShadow(denies);
    expect(engine.decider()).not.toBe(before);
    const withShadow = engine.decider();
    engine.swap(same);
    expect(engine.decider()).not.toBe(withShadow);
    expect(engine.decider().decide(sampleInput()).bundle).toEqual(same.stamp);
  });

  it('loads the shadow source beside the active one and shows both in status', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'active.tgz'), await markerBundle({ name: 'live' }));
    await writeFile(join(dir, 'candidate.tgz'), await markerBundle({ name: 'next', allow: false }));
    const divergences: ShadowDivergence[] = [];
    const engine = new PolicyEngine({ onDivergence: (d) => divergences.push(d) });
    const events: string[] = [];
    const manager = new BundleManager(engine, {
      source: { kind: 'file', path: join(dir, 'active.tgz') },
      shadow: { kind: 'file', path: join(dir, 'candidate.tgz') },
      builtins: hostBuiltins(),
      onEvent: (e) => events.push(`${e.slot}:${e.event}:${e.revision}`),
    });
    await manager.reload();
    expect(events.sort()).toEqual(['active:loaded:live', 'shadow:loaded:next']);
    expect(engine.decide(sampleInput()).allow).toBe(true);
    await engine.shadowIdle();
    expect(divergences).toHaveLength(1);
    const status = manager.status();
    expect(status.active?.revision).toBe('live');
    expect(status.shadow).toMatchObject({
      bundle: { revision: 'next' },
      last_error: null,
      evaluated: 1,
      divergences: 1,
      dropped: 0,
    });
    manager.close();
  });
});
