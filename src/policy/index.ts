/**
 * Policy bundles and decisions: loading OPA bundles, evaluating the decision entrypoint through
 * OPA's Wasm SDK, checking the decision's shape, and swapping bundles atomically.
 */
export {
  PolicyEngine,
  evaluateDecision,
  loadBundleArchive,
  loadBundleFiles,
  type HostBuiltins,
  type LoadedBundle,
  type LoadOptions,
} from './engine.js';
export {
  bundleData,
  bundleHash,
  readManifest,
  unpackBundle,
  type BundleFiles,
} from './bundle-file.js';
export { denial, readDecision } from './decision.js';
export type * from './types.js';
export {
  BundleManager,
  type BundleEvent,
  type BundleManagerOptions,
  type BundleSource,
  type BundleStatus,
} from './manager.js';
