/**
 * Puts the `policy` configuration section to work: the engine, the bundle manager for the
 * active bundle and the shadow candidate, and signature verification. `pgwarden serve` calls
 * {@link startPolicy} once; everything it builds is also available piecemeal from this folder.
 */
import { secretSource, type Config } from '../config/index.js';
import type { Logger } from '../logger.js';
import { PolicyEngine, type HostBuiltins } from './engine.js';
import { BundleManager, type BundleEvent } from './manager.js';
import type { ShadowDivergence } from './shadow.js';
import { createBundleVerifier, readVerificationKey, type BundleVerifier } from './signature.js';
import type { BuildDir, BundleSource } from './source.js';

type PolicyConfig = Config['policy'];
type SourceConfig = NonNullable<PolicyConfig['bundle']>;

/** What {@link startPolicy} needs besides the configuration. */
export interface PolicySetup {
  policy: PolicyConfig;
  /** Host builtins for the modules (`hostBuiltins()` of src/rego). */
  builtins: HostBuiltins;
  /** Compiles `dir` sources (`buildBundle` of src/rego with the configured entrypoint). */
  buildDir?: BuildDir;
  /** Bundle loads and failures, for the audit trail and metrics (`slot` tells them apart). */
  onEvent?: (event: BundleEvent) => void;
  /** Shadow divergences, for the audit trail. */
  onDivergence?: (divergence: ShadowDivergence) => void;
  logger?: Logger;
}

/** The running policy: the engine to decide with and, when a bundle is configured, its manager. */
export interface PolicyRuntime {
  engine: PolicyEngine;
  bundles: BundleManager | null;
}

/**
 * Builds the engine and loads the configured bundles once (then keeps watching or polling).
 * A bundle that fails to load does not stop start-up: statements are refused until one loads,
 * and the failure is in status. A verification key that cannot be read does stop it.
 */
export async function startPolicy(setup: PolicySetup): Promise<PolicyRuntime> {
  const engine = new PolicyEngine(setup.onDivergence ? { onDivergence: setup.onDivergence } : {});
  const { bundle, shadow, entrypoint } = setup.policy;
  if (!bundle) return { engine, bundles: null };
  const bundles = new BundleManager(engine, {
    source: bundleSource(bundle),
    ...(shadow ? { shadow: bundleSource(shadow) } : {}),
    entrypoint,
    builtins: setup.builtins,
    ...(setup.buildDir ? { buildDir: setup.buildDir } : {}),
    ...(setup.onEvent ? { onEvent: setup.onEvent } : {}),
    ...(setup.logger ? { logger: setup.logger } : {}),
    verify: await verifier(setup.policy.signing),
  });
  await bundles.start();
  return { engine, bundles };
}

/** The configured verifier; without a key, signed bundles are refused and unsigned accepted. */
async function verifier(signing: PolicyConfig['signing']): Promise<BundleVerifier> {
  return createBundleVerifier({
    required: signing.required,
    alg: signing.alg,
    ...(signing.key_file !== undefined ? { key: await readVerificationKey(signing.key_file) } : {}),
    ...(signing.key_id !== undefined ? { keyId: signing.key_id } : {}),
    ...(signing.scope !== undefined ? { scope: signing.scope } : {}),
  });
}

/** A `bundle` or `shadow` section as a source. */
export function bundleSource(source: SourceConfig): BundleSource {
  if (source.file) return { kind: 'file', path: source.file };
  if (source.dir) return { kind: 'dir', path: source.dir, v0Compatible: source.v0_compatible };
  const token =
    source.bearer_token_env || source.bearer_token_file
      ? secretSource({
          name: 'bundle server token',
          env: source.bearer_token_env,
          file: source.bearer_token_file,
        })
      : undefined;
  return {
    kind: 'url',
    url: source.url!,
    pollSeconds: source.poll / 1000,
    pollMaxSeconds: source.poll_max / 1000,
    ...(token ? { bearerToken: token } : {}),
  };
}
