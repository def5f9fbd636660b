/**
 * Evaluating decisions with the loaded bundle. A bundle is compiled WebAssembly run through OPA's
 * own SDK (`@open-policy-agent/opa-wasm`); the engine holds the active bundle (and optionally a
 * shadow candidate) and swaps it atomically: a decision is made entirely under the bundle it read
 * at its start, and carries that bundle's hash and revision.
 */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { loadPolicy } from '@open-policy-agent/opa-wasm';
import { PgwardenError } from '../errors.js';
import {
  bundleData,
  bundleHash,
  mergeData,
  readManifest,
  unpackBundle,
  type BundleFiles,
  type BundleManifest,
} from './bundle-file.js';
import { denial, readDecision } from './decision.js';
import { entrypointEvaluator } from './evaluate.js';
import { ShadowRunner, type ShadowDivergence, type ShadowStats } from './shadow.js';
import type { VerifiedSignature } from './signature.js';
import type { BundleStamp, Decider, Decision, DecisionResult, PolicyInput } from './types.js';

/** Host implementations of builtins the module imports, by name (JSON values in and out). */
export type HostBuiltins = Record<string, (...args: unknown[]) => unknown>;

type LoadedPolicy = Awaited<ReturnType<typeof loadPolicy>>;

/** Builtins opa-wasm 1.10 implements itself in JavaScript (its `src/builtins`). */
const SDK_BUILTINS = new Set([
  'json.is_valid',
  'sprintf',
  'regex.split',
  'yaml.is_valid',
  'yaml.marshal',
  'yaml.unmarshal',
]);

/** A bundle ready to evaluate. */
export interface LoadedBundle {
  stamp: BundleStamp;
  manifest: BundleManifest;
  source: string;
  loadedAt: Date;
  entrypoint: string;
  /** The verified signature, or null for an unsigned bundle. */
  signature: VerifiedSignature | null;
  /** Evaluates the entrypoint; `input` is a JSON value or its UTF-8 text in an ArrayBuffer. */
  evaluate(input: unknown): unknown;
}

/** Options for loading a bundle. */
export interface LoadOptions {
  /** Entrypoint path, `pgwarden/decision` by default. */
  entrypoint?: string;
  /** Where the bundle came from, for status and audit (a file path or URL). */
  source: string;
  builtins?: HostBuiltins;
  /** Documents merged into the bundle's data (`pgwarden eval -d`); a conflict is an error. */
  extraData?: Array<{ label: string; value: unknown }>;
  signature?: VerifiedSignature | null;
}

/** Loads a bundle archive (`.tar.gz`) into a ready-to-evaluate bundle. */
export async function loadBundleArchive(
  archive: Buffer,
  options: LoadOptions,
): Promise<LoadedBundle> {
  return loadBundleFiles(await unpackBundle(archive), options);
}

/**
 * Loads a bundle from its unpacked files. A module that imports a builtin neither the SDK nor
 * `builtins` provides is refused here, rather than failing at its first evaluation.
 */
export async function loadBundleFiles(
  files: BundleFiles,
  options: LoadOptions,
): Promise<LoadedBundle> {
  const manifest = readManifest(files);
  const entrypoint = normalizeEntrypoint(options.entrypoint ?? 'pgwarden/decision');
  const modulePath = manifest.wasm?.find((w) => w.entrypoint === entrypoint)?.module;
  const wasm = files.get((modulePath ?? '/policy.wasm').replace(/^\/+/, ''));
  if (!wasm) throw new PgwardenError('ERR_BUNDLE_INVALID', 'bundle has no policy.wasm');

  const data = bundleData(files);
  for (const extra of options.extraData ?? []) mergeData(data, extra.value, extra.label);
  const given: unknown = options.builtins;
  // A factory passed where its map belongs (`hostBuiltins` for `hostBuiltins()`) type-checks,
  // since a function is an object; it is called rather than read as an empty map.
  const builtins =
    typeof given === 'function' ? (given as () => HostBuiltins)() : (options.builtins ?? {});
  let policy: LoadedPolicy;
  try {
    policy = await loadPolicy(wasm, undefined, builtins);
  } catch (err) {
    throw new PgwardenError('ERR_BUNDLE_INVALID', `policy.wasm failed to load: ${describe(err)}`, {
      cause: err,
    });
  }
  const missing = moduleBuiltins(policy).filter((b) => !SDK_BUILTINS.has(b) && !(b in builtins));
  if (missing.length > 0) {
    throw new PgwardenError(
      'ERR_BUNDLE_INVALID',
      `policy.wasm needs builtins pgwarden does not provide: ${missing.sort().join(', ')}`,
    );
  }
  try {
    policy.setData(data);
  } catch (err) {
    throw new PgwardenError('ERR_BUNDLE_INVALID', `bundle data failed to load: ${describe(err)}`, {
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
    signature: options.signature ?? null,
    evaluate: entrypointEvaluator(policy, id),
  };
}

/** `data.pgwarden.decision` and `pgwarden.decision` name the entrypoint `pgwarden/decision`. */
export function normalizeEntrypoint(entrypoint: string): string {
  if (entrypoint.includes('/')) return entrypoint.replace(/^\/+/, '');
  return entrypoint
    .replace(/^data\./, '')
    .split('.')
    .join('/');
}

/** The builtin names the module imports (its `builtins()` export, a name-to-id JSON object). */
function moduleBuiltins(policy: LoadedPolicy): string[] {
  const holder = policy.wasmInstance;
  const instance = 'instance' in holder ? holder.instance : holder;
  const exports = instance.exports as {
    builtins?: () => number;
    opa_json_dump?: (addr: number) => number;
  };
  if (!exports.builtins || !exports.opa_json_dump) return [];
  const addr = exports.opa_json_dump(exports.builtins());
  const bytes = new Uint8Array(policy.mem.buffer);
  let end = addr;
  while (bytes[end] !== 0) end++;
  const map = JSON.parse(new TextDecoder().decode(bytes.subarray(addr, end))) as object;
  return Object.keys(map);
}

/** Options of a {@link PolicyEngine}. */
export interface EngineOptions {
  /** Called (outside the decision's path) for each shadow decision that differs. */
  onDivergence?: (divergence: ShadowDivergence) => void;
  /** Shadow evaluations waiting beyond this are dropped and counted; 1000 by default. */
  shadowQueueLimit?: number;
}

/**
 * The gateway's decider: evaluates the active bundle, and the shadow candidate beside it when
 * one is set. Without a bundle every statement is refused; a policy that throws is a denial
 * naming the error.
 */
export class PolicyEngine implements Decider {
  #active: LoadedBundle | null = null;
  #shadow: LoadedBundle | null = null;
  #decider: Decider;
  readonly #runner: ShadowRunner;

  constructor(options: EngineOptions = {}) {
    this.#runner = new ShadowRunner(
      (job) => evaluateDecision(job.bundle, job.input, job.encoded),
      options.onDivergence,
      options.shadowQueueLimit ?? 1000,
    );
    this.#decider = this.#makeDecider();
  }

  /** The bundle in force, or null before the first successful load. */
  get active(): LoadedBundle | null {
    return this.#active;
  }

  /** The shadow candidate, or null. */
  get shadow(): LoadedBundle | null {
    return this.#shadow;
  }

  /** Puts `bundle` in force; decisions already started finish under the previous one. */
  swap(bundle: LoadedBundle): LoadedBundle | null {
    const previous = this.#active;
    this.#active = bundle;
    this.#decider = this.#makeDecider();
    return previous;
  }

  /** Sets (or with null, removes) the shadow candidate. */
  setShadow(bundle: LoadedBundle | null): LoadedBundle | null {
    const previous = this.#shadow;
    this.#shadow = bundle;
    this.#decider = this.#makeDecider();
    return previous;
  }

  /**
   * The decider for the bundles in force now. It is a new object after every swap, so a caller
   * that keeps it beside a decision (a prepared statement) can tell when to decide again.
   */
  decider(): Decider {
    return this.#decider;
  }

  /** Decides with the bundles in force now. */
  decide(input: PolicyInput): DecisionResult {
    return this.#decider.decide(input);
  }

  /** Counts of shadow evaluations, for status and metrics. */
  shadowStats(): ShadowStats {
    return this.#runner.stats();
  }

  /** Resolves once every queued shadow evaluation has run (tests, shutdown). */
  shadowIdle(): Promise<void> {
    return this.#runner.idle();
  }

  #makeDecider(): Decider {
    const active = this.#active;
    const shadow = this.#shadow;
    const runner = this.#runner;
    if (!shadow) return { decide: (input) => evaluateDecision(active, input) };
    return {
      decide(input) {
        // One serialisation serves both evaluations; the shadow one runs later, so it must not
        // see later changes to `input` (the gateway adds approvals to it).
        const encoded = encodeInput(input);
        const result = evaluateDecision(active, input, encoded);
        runner.enqueue({ bundle: shadow, encoded, input, result });
        return result;
      },
    };
  }
}

/**
 * Evaluates one decision under `bundle` (null: refused, no policy loaded). `encoded` is the
 * input's JSON text when the caller already has it.
 */
export function evaluateDecision(
  bundle: LoadedBundle | null,
  input: PolicyInput,
  encoded?: ArrayBuffer,
): DecisionResult {
  const id = 'd-' + randomUUID();
  if (!bundle) return stamped(denial('no policy bundle is loaded'), id, null, 0);
  const started = performance.now();
  let decision;
  try {
    decision = readDecision(bundle.evaluate(encoded ?? input));
  } catch (err) {
    decision = denial(`policy evaluation failed: ${describe(err)}`);
  }
  const evalMicros = Math.round((performance.now() - started) * 1000);
  return stamped(decision, id, bundle.stamp, evalMicros);
}

/**
 * The decision with its provenance. Written field by field: V8 (Node 20) takes a slow path of
 * about 2 µs for an object spread followed by more properties, a tenth of the whole budget.
 */
function stamped(
  decision: Decision,
  id: string,
  bundle: BundleStamp | null,
  evalMicros: number,
): DecisionResult {
  return {
    allow: decision.allow,
    reasons: decision.reasons,
    mask: decision.mask,
    approval: decision.approval,
    rowLimit: decision.rowLimit,
    byteLimit: decision.byteLimit,
    id,
    bundle,
    evalMicros,
  };
}

/** The input's JSON text in an ArrayBuffer of its own, as opa-wasm accepts it. */
export function encodeInput(input: unknown): ArrayBuffer {
  const bytes = new TextEncoder().encode(JSON.stringify(input));
  const { buffer } = bytes;
  if (buffer instanceof ArrayBuffer && bytes.byteLength === buffer.byteLength) return buffer;
  return bytes.slice().buffer as ArrayBuffer;
}

/** A one-line description of a thrown value; opa-wasm throws plain objects and strings too. */
export function describe(err: unknown): string {
  if (err instanceof Error) return err.message;
  if (typeof err === 'object' && err !== null && 'message' in err) return String(err.message);
  return String(err);
}
