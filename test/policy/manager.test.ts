import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  BundleManager,
  PolicyEngine,
  createBundleVerifier,
  nextPollDelay,
  type BundleEvent,
  type BundleManagerOptions,
} from '../../src/policy/index.js';
import { buildBundle, hostBuiltins } from '../../src/rego/index.js';
import { keyFiles, markerBundle, policyDir, sampleInput, tempDir, writePolicy } from './support.js';
import { readFile } from 'node:fs/promises';

const managers: BundleManager[] = [];
const servers: Server[] = [];
afterEach(async () => {
  for (const m of managers.splice(0)) m.close();
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

function manage(options: Omit<BundleManagerOptions, 'builtins'>) {
  const engine = new PolicyEngine();
  const events: BundleEvent[] = [];
  const manager = new BundleManager(engine, {
    builtins: hostBuiltins(),
    onEvent: (e) => events.push(e),
    ...options,
  });
  managers.push(manager);
  return { engine, manager, events };
}

async function waitFor(check: () => boolean, ms = 5000): Promise<void> {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('bundle manager', () => {
  it('refuses every statement while no bundle is loaded', async () => {
    const dir = await tempDir();
    const { engine, manager } = manage({ source: { kind: 'file', path: join(dir, 'none.tgz') } });
    const status = await manager.start();
    expect(status.active).toBeNull();
    expect(status.last_error?.message).toMatch(/cannot read bundle/);
    const result = engine.decide(sampleInput());
    expect(result).toMatchObject({ allow: false, bundle: null });
    expect(result.reasons).toEqual(['no policy bundle is loaded']);
  });

  it('loads a bundle file, swaps on change and keeps the last good one on failure', async () => {
    const dir = await tempDir();
    const path = join(dir, 'bundle.tar.gz');
    await writeFile(path, await markerBundle({ name: 'v1' }));
    const { engine, manager, events } = manage({ source: { kind: 'file', path } });
    await manager.start();
    expect(engine.decide(sampleInput())).toMatchObject({
      allow: true,
      reasons: ['v1'],
      bundle: { revision: 'v1' },
    });
    const firstHash = manager.status().active!.hash;

    // A new file moved into place (as deployments do) is picked up by the watcher.
    await writeFile(join(dir, 'next.tmp'), await markerBundle({ name: 'v2' }));
    await rename(join(dir, 'next.tmp'), path);
    await waitFor(() => engine.active?.stamp.revision === 'v2');
    expect(events.filter((e) => e.event === 'loaded').map((e) => e.revision)).toEqual(['v1', 'v2']);
    expect(events[1]).toMatchObject({ slot: 'active', previousHash: firstHash });

    // A broken file leaves v2 in force; the failure is in status and in an event.
    await writeFile(path, 'not a bundle');
    const status = await manager.reload();
    expect(status.active?.revision).toBe('v2');
    expect(status.last_error?.message).toMatch(/bundle archive unreadable/);
    expect(events.at(-1)).toMatchObject({ event: 'failed', slot: 'active' });
    expect(engine.decide(sampleInput()).reasons).toEqual(['v2']);
  });

  it('does not swap when the same policy is loaded again', async () => {
    const dir = await tempDir();
    const path = join(dir, 'bundle.tar.gz');
    await writeFile(path, await markerBundle({ name: 'v1' }));
    const { engine, manager, events } = manage({ source: { kind: 'file', path } });
    await manager.reload();
    const decider = engine.decider();
    await manager.reload();
    expect(engine.decider()).toBe(decider);
    expect(events.filter((e) => e.event === 'loaded')).toHaveLength(1);
  });

  it('refuses a bundle that fails verification, keeping the last good one', async () => {
    const keys = await keyFiles('rsa');
    const dir = await tempDir();
    const path = join(dir, 'bundle.tar.gz');
    await writeFile(path, await markerBundle({ name: 'v1' }, { signingKey: keys.privateFile }));
    const verify = createBundleVerifier({
      required: true,
      alg: 'RS256',
      key: await readFile(keys.publicFile),
    });
    const { engine, manager } = manage({ source: { kind: 'file', path }, verify });
    expect((await manager.reload()).active).toMatchObject({ revision: 'v1', signed: true });
    await writeFile(path, await markerBundle({ name: 'v2' }));
    const status = await manager.reload();
    expect(status.last_error?.message).toMatch(/not signed/);
    expect(engine.active?.stamp.revision).toBe('v1');
  });

  it('builds a folder of Rego in-process and rebuilds it when it changes', async () => {
    const dir = await policyDir({ name: 'dev-1' });
    const { engine, manager } = manage({
      source: { kind: 'dir', path: dir },
      buildDir: (path) =>
        buildBundle({ paths: [path], entrypoints: ['pgwarden/decision'], revision: 'dev' }),
    });
    await manager.start();
    expect(engine.decide(sampleInput()).reasons).toEqual(['dev-1']);
    await writePolicy(dir, { name: 'dev-2' });
    await waitFor(() => engine.decide(sampleInput()).reasons[0] === 'dev-2');

    // A compile error keeps dev-2 in force and says what is wrong.
    await writeFile(join(dir, 'policy.rego'), 'package pgwarden\n\ndecision := {');
    await waitFor(() => manager.status().last_error !== null);
    expect(engine.decide(sampleInput()).reasons).toEqual(['dev-2']);
  });
});

/** A bundle server on loopback that records what each request carried. */
async function bundleServer(token: string) {
  const state = {
    body: Buffer.alloc(0) as Buffer,
    etag: '"1"',
    failWith: 0,
    requests: [] as Array<{ at: number; headers: IncomingHttpHeaders; status: number }>,
  };
  const server = createServer((req, res) => {
    const answer = (status: number, body?: Buffer) => {
      state.requests.push({ at: Date.now(), headers: req.headers, status });
      if (status === 200) res.setHeader('etag', state.etag);
      res.writeHead(status).end(body);
    };
    if (req.headers.authorization !== `Bearer ${token}`) return answer(401);
    if (state.failWith) return answer(state.failWith);
    if (req.headers['if-none-match'] === state.etag) return answer(304);
    answer(200, state.body);
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/bundles/pgwarden`;
  return { state, url };
}

describe('bundle server source', () => {
  it('polls with the bearer token and If-None-Match, and swaps on a new ETag', async () => {
    const { state, url } = await bundleServer('s3cret');
    state.body = await markerBundle({ name: 'v1' });
    const { engine, manager } = manage({
      source: { kind: 'url', url, pollSeconds: 0.05, bearerToken: () => 's3cret' },
    });
    await manager.start();
    expect(engine.active?.stamp.revision).toBe('v1');
    await waitFor(() => state.requests.some((r) => r.status === 304));
    expect(state.requests[0]!.headers['if-none-match']).toBeUndefined();
    expect(state.requests.at(-1)!.headers['if-none-match']).toBe('"1"');

    state.body = await markerBundle({ name: 'v2' });
    state.etag = '"2"';
    await waitFor(() => engine.active?.stamp.revision === 'v2');
    expect(manager.status().active?.source).toBe(url);
  });

  it('backs off while the server fails, keeps the last good bundle, then recovers', async () => {
    const { state, url } = await bundleServer('t');
    state.body = await markerBundle({ name: 'v1' });
    const { engine, manager } = manage({
      source: { kind: 'url', url, pollSeconds: 0.02, pollMaxSeconds: 1, bearerToken: () => 't' },
    });
    await manager.start();
    state.failWith = 503;
    const failedFrom = state.requests.length;
    await waitFor(() => state.requests.length >= failedFrom + 5);
    expect(manager.status().last_error?.message).toMatch(/answered 503/);
    expect(engine.decide(sampleInput()).reasons).toEqual(['v1']);
    // Gaps between failed polls grow: 40, 80, 160, 320 ms (20 ms doubled per failure, with
    // jitter of at most 20 %), so the fourth gap is well over twice the first.
    const failed = state.requests.slice(failedFrom).map((r) => r.at);
    expect(failed[4]! - failed[3]!).toBeGreaterThan(2 * (failed[1]! - failed[0]!));
    expect(failed[4]! - failed[3]!).toBeGreaterThanOrEqual(200);

    state.failWith = 0;
    state.body = await markerBundle({ name: 'v2' });
    state.etag = '"2"';
    await waitFor(() => engine.active?.stamp.revision === 'v2', 8000);
    expect(manager.status().last_error).toBeNull();
  });

  it('reports a refused token as a failed load', async () => {
    const { state, url } = await bundleServer('right');
    state.body = await markerBundle({ name: 'v1' });
    const { manager } = manage({
      source: { kind: 'url', url, pollSeconds: 60, bearerToken: () => 'wrong' },
    });
    const status = await manager.reload();
    expect(status.active).toBeNull();
    expect(status.last_error?.message).toMatch(/answered 401/);
  });

  it('computes the backoff with jitter within bounds', () => {
    expect(nextPollDelay(1000, 60_000, 0, () => 0.5)).toBe(1000);
    expect(nextPollDelay(1000, 60_000, 3, () => 0.5)).toBe(8000);
    expect(nextPollDelay(1000, 60_000, 30, () => 0.5)).toBe(60_000);
    expect(nextPollDelay(1000, 60_000, 0, () => 0)).toBe(800);
    expect(nextPollDelay(1000, 60_000, 0, () => 0.999999)).toBeCloseTo(1200, 0);
  });
});
