/**
 * Evaluating decisions with the loaded bundle. A bundle is compiled WebAssembly run through OPA's
 * own SDK (`@open-policy-agent/opa-wasm`); the engine holds the active bundle and swaps it
 * atomically: a decision is made entirely under the bundle it read at its start, and carries
 * that bundle's hash and revision.
 */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { loadPolicy } from '@open-policy-agent/opa-wasm';
import { PgwardenError } from '../errors.js';
import {
  bundleData,
  bundleHash,
  readManifest,
  unpackBundle,
  type BundleFiles,
  type BundleManifest,
} from './bundle-file.js';
import { denial, readDecision } from './decision.js';
import type { BundleStamp, Decider, DecisionResult, PolicyInput } from './types.js';

/** Host implementations of builtins the module imports, by name (JSON values in and out). */
export type HostBuiltins = Record<string, (...args: unknown[]) => unknown>;

type LoadedPolicy = Awaited<ReturnType<typeof loadPolicy>>;

/** A bundle ready to evaluate. */
export interface LoadedBundle {
  stamp: BundleStamp;
  manifest: BundleManifest;
  source: string;
  loadedAt: Date;
  entrypoint: string;
  evaluate(input: unknown): unknown;
}

/** Options for loading a bundle. */
export interface LoadOptions {
  /** Entrypoint path, `pgwarden/decision` by default. */
  entrypoint?: string;
  /** Where the bundle came from, for status and audit (a file path or URL). */
  source: string;
  builtins?: HostBuiltins;
}

/** Loads a bundle archive (`.tar.gz`) into a ready-to-evaluate bundle. */
export async function loadBundleArchive(
  archive: Buffer,
  options: LoadOptions,
): Promise<LoadedBundle> {
  return loadBundleFiles(await unpackBundle(archive), options);
}

/** Loads a bundle from its unpacked files. */
export async function loadBundleFiles(
  files: BundleFiles,
  options: LoadOptions,
): Promise<LoadedBundle> {
  const manifest = readManifest(files);
  const entrypoint = options.entrypoint ?? 'pgwarden/decision';
  const modulePath = manifest.wasm?.find((w) => w.entrypoint === entrypoint)?.module;
  const wasm = files.get((modulePath ?? '/policy.wasm').replace(/^\/+/, ''));
  if (!wasm) throw new PgwardenError('ERR_BUNDLE_INVALID', 'bundle has no policy.wasm');

  let policy: LoadedPolicy;
  try {
    policy = await loadPolicy(wasm, undefined, options.builtins ?? {});
    policy.setData(bundleData(files));
  } catch (err) {
    throw new PgwardenError('ERR_BUNDLE_INVALID', `policy.wasm failed to load: ${describe(err)}`, {
      cause: err,
    });
  }
  const entrypoints = policy.entrypoints as Record<string, number>;
  const id = entrypoints[entrypoint];
  if (id === undefined) {
    throw new PgwardenError('ERR_BUNDLE_INVALID', `bundle has no entrypoint ${entrypoint}`);
  }
  return {
    stamp: { hash: bundleHash(files), revision: manifest.revision },
    manifest,
    source: options.source,
    loadedAt: new Date(),
    entrypoint,
    evaluate: (input) => policy.evaluate(input, id),
  };
}

/**
 * The gateway's decider: evaluates the active bundle. Without a bundle every statement is
 * refused; a policy that throws is a denial naming the error.
 */
export class PolicyEngine implements Decider {
  #active: LoadedBundle | null = null;

  /** The bundle in force, or null before the first successful load. */
  get active(): LoadedBundle | null {
    return this.#active;
  }

  /** Puts `bundle` in force; decisions already started finish under the previous one. */
  swap(bundle: LoadedBundle): LoadedBundle | null {
    const previous = this.#active;
    this.#active = bundle;
    return previous;
  }

  decide(input: PolicyInput): DecisionResult {
    return evaluateDecision(this.#active, input);
  }
}

/** Evaluates one decision under `bundle` (null: refused, no policy loaded). */
export function evaluateDecision(bundle: LoadedBundle | null, input: PolicyInput): DecisionResult {
  const id = 'd-' + randomUUID();
  if (!bundle) return { ...denial('no policy bundle is loaded'), id, bundle: null, evalMicros: 0 };
  const started = performance.now();
  let decision;
  try {
    decision = readDecision(bundle.evaluate(input));
  } catch (err) {
    decision = denial(`policy evaluation failed: ${describe(err)}`);
  }
  const evalMicros = Math.round((performance.now() - started) * 1000);
  return { ...decision, id, bundle: bundle.stamp, evalMicros };
}

// opa-wasm throws plain objects and strings as well as Errors.
function describe(err: unknown): string {
  if (err instanceof Error) return err.message;
  if (typeof err === 'object' && err !== null && 'message' in err) return String(err.message);
  return String(err);
}
