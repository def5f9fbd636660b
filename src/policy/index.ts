/**
 * Policy bundles and decisions: loading OPA bundles, verifying their signatures, evaluating the
 * decision entrypoint through OPA's Wasm SDK, checking the decision's shape, swapping bundles
 * atomically, and shadow-evaluating a candidate bundle.
 */
export {
  PolicyEngine,
  encodeInput,
  evaluateDecision,
  loadBundleArchive,
  loadBundleFiles,
  normalizeEntrypoint,
  type EngineOptions,
  type HostBuiltins,
  type LoadedBundle,
  type LoadOptions,
} from './engine.js';
export {
  bundleData,
  bundleHash,
  mergeData,
  readManifest,
  unpackBundle,
  type BundleFiles,
  type BundleManifest,
} from './bundle-file.js';
export { denial, readDecision } from './decision.js';
export type * from './types.js';
export {
  BundleManager,
  type BundleEvent,
  type BundleInfo,
  type BundleManagerOptions,
  type BundleSlot,
  type BundleStatus,
} from './manager.js';
export { nextPollDelay, type BundleSource } from './source.js';
export {
  SIGNATURE_ALGORITHMS,
  createBundleVerifier,
  readVerificationKey,
  type BundleVerifier,
  type SignatureAlgorithm,
  type SignatureOptions,
  type VerifiedSignature,
} from './signature.js';
export { signatureFileHash } from './signature-hash.js';
export type { ShadowDivergence, ShadowSide, ShadowStats } from './shadow.js';
export { startPolicy, bundleSource, type PolicyRuntime, type PolicySetup } from './setup.js';
export type { BuildDir } from './source.js';
