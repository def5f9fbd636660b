/**
 * Keeping bundles in force: loading the active bundle (and optionally a shadow candidate) from
 * its source, verifying its signature, swapping it into the engine, and keeping the last good
 * bundle when a newer one fails to download, verify, compile or load.
 */
import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';
import { silentLogger, type Logger } from '../logger.js';
import { bundleHash, unpackBundle } from './bundle-file.js';
import {
  loadBundleFiles,
  type HostBuiltins,
  type LoadedBundle,
  type PolicyEngine,
} from './engine.js';
import type { BundleVerifier } from './signature.js';
import {
  nextPollDelay,
  sourceLabel,
  SourceFetcher,
  type BuildDir,
  type BundleSource,
} from './source.js';

export type { BundleSource } from './source.js';

/** Which bundle of the engine a source feeds. */
export type BundleSlot = 'active' | 'shadow';

/** An event worth auditing: a bundle put in force, or one that failed. */
export interface BundleEvent {
  event: 'loaded' | 'failed';
  slot: BundleSlot;
  source: string;
  revision?: string;
  hash?: string;
  previousHash?: string | null;
  /** Key id of a verified signature (null: signed without one; absent: unsigned). */
  keyId?: string | null;
  error?: string;
}

/** One loaded bundle as status shows it. */
export interface BundleInfo {
  revision: string;
  hash: string;
  source: string;
  loaded_at: string;
  signed: boolean;
}

/** What `GET /v1/bundles` shows. */
export interface BundleStatus {
  active: BundleInfo | null;
  last_error: null | { at: string; message: string };
  last_attempt: string | null;
  /** The shadow candidate, when one is configured. */
  shadow: null | {
    bundle: BundleInfo | null;
    last_error: null | { at: string; message: string };
    last_attempt: string | null;
    evaluated: number;
    divergences: number;
    dropped: number;
  };
}

/** Options of a {@link BundleManager}. */
export interface BundleManagerOptions {
  source: BundleSource;
  /** A candidate evaluated beside the active bundle without enforcing (shadow mode). */
  shadow?: BundleSource;
  entrypoint?: string;
  builtins?: HostBuiltins;
  /** Builds a folder of Rego and data into a bundle archive (the project's compiler). */
  buildDir?: BuildDir;
  /** Checks a bundle's files before it is loaded (signature verification). */
  verify?: BundleVerifier;
  onEvent?: (event: BundleEvent) => void;
  logger?: Logger;
}

interface SlotState {
  last_error: null | { at: string; message: string };
  last_attempt: string | null;
}

/** Loads one source into one slot of the engine and keeps it fresh. */
class SlotLoader {
  state: SlotState = { last_error: null, last_attempt: null };
  #fetcher: SourceFetcher;
  #watcher: FSWatcher | null = null;
  #timer: NodeJS.Timeout | null = null;
  #failures = 0;
  #loading: Promise<void> | null = null;
  #closed = false;

  constructor(
    readonly slot: BundleSlot,
    readonly source: BundleSource,
    private readonly engine: PolicyEngine,
    private readonly options: BundleManagerOptions,
    private readonly log: Logger,
  ) {
    this.#fetcher = new SourceFetcher(source, options.buildDir);
  }

  get current(): LoadedBundle | null {
    return this.slot === 'active' ? this.engine.active : this.engine.shadow;
  }

  /** Loads now; concurrent calls share one load. */
  load(): Promise<void> {
    this.#loading ??= this.#load().finally(() => (this.#loading = null));
    return this.#loading;
  }

  /** Watches the file or folder, or polls the URL. */
  watch(): void {
    const { source } = this;
    if (source.kind === 'url') {
      this.#schedule(source.pollSeconds * 1000, (source.pollMaxSeconds ?? 0) * 1000);
      return;
    }
    // A bundle file is usually replaced by a rename, which ends a watch on the file itself;
    // watching its folder sees the new file arrive.
    const target = source.kind === 'file' ? dirname(source.path) : source.path;
    const name = source.kind === 'file' ? basename(source.path) : null;
    const onChange = (_event: string, changed: string | null) => {
      if (name !== null && changed !== null && changed !== name) return;
      // Editors and copies write in several steps; wait for them to settle before loading.
      if (this.#timer) clearTimeout(this.#timer);
      this.#timer = setTimeout(() => void this.load(), 200);
      this.#timer.unref();
    };
    try {
      this.#watcher = watch(target, { recursive: source.kind === 'dir' }, onChange);
    } catch (err) {
      // Without a watch the bundle in force stays, and POST /v1/bundles/reload still works.
      const message = `cannot watch ${target}: ${err instanceof Error ? err.message : String(err)}`;
      this.state.last_error = { at: new Date().toISOString(), message };
      this.log.error({ slot: this.slot, err: message }, 'bundle source is not watched');
      return;
    }
    this.#watcher.on('error', (err) => {
      this.state.last_error = { at: new Date().toISOString(), message: `watch: ${err.message}` };
    });
    this.#watcher.unref();
  }

  close(): void {
    this.#closed = true;
    this.#watcher?.close();
    if (this.#timer) clearTimeout(this.#timer);
    this.#watcher = null;
    this.#timer = null;
  }

  async #load(): Promise<void> {
    const label = sourceLabel(this.source);
    this.state.last_attempt = new Date().toISOString();
    try {
      const archive = await this.#fetcher.fetch();
      if (archive === null) {
        this.#failures = 0;
        return; // not modified
      }
      const bundle = await this.#prepare(archive, label);
      this.state.last_error = null;
      this.#failures = 0;
      if (bundle === null) return; // the same policy as in force
      const previous =
        this.slot === 'active' ? this.engine.swap(bundle) : this.engine.setShadow(bundle);
      const { hash, revision } = bundle.stamp;
      this.log.info({ slot: this.slot, revision, hash }, 'bundle loaded');
      this.options.onEvent?.({
        event: 'loaded',
        slot: this.slot,
        source: label,
        revision,
        hash,
        previousHash: previous?.stamp.hash ?? null,
        ...(bundle.signature ? { keyId: bundle.signature.keyId } : {}),
      });
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      this.#failures++;
      this.#fetcher.forget();
      this.state.last_error = { at: new Date().toISOString(), message };
      this.log.error(
        { slot: this.slot, err: message },
        'bundle load failed; the last good bundle stays in force',
      );
      this.options.onEvent?.({ event: 'failed', slot: this.slot, source: label, error: message });
    }
  }

  /** Unpacks, verifies and loads; null when the archive holds the policy already in force. */
  async #prepare(archive: Buffer, label: string): Promise<LoadedBundle | null> {
    const files = await unpackBundle(archive);
    const signature = (await this.options.verify?.(files)) ?? null;
    const current = this.current;
    if (current && current.source === label && current.stamp.hash === bundleHash(files)) {
      return null;
    }
    return loadBundleFiles(files, {
      source: label,
      entrypoint: this.options.entrypoint,
      builtins: this.options.builtins,
      signature,
    });
  }

  #schedule(baseMs: number, maxMs: number): void {
    if (this.#closed) return;
    const delay = nextPollDelay(baseMs, maxMs || baseMs * 10, this.#failures);
    this.#timer = setTimeout(() => {
      void this.load().finally(() => this.#schedule(baseMs, maxMs));
    }, delay);
    this.#timer.unref();
  }
}

/** Loads bundles from their sources into an engine and keeps them fresh. */
export class BundleManager {
  readonly #active: SlotLoader;
  readonly #shadow: SlotLoader | null;

  constructor(
    readonly engine: PolicyEngine,
    options: BundleManagerOptions,
  ) {
    const log = (options.logger ?? silentLogger).child({ component: 'bundles' });
    this.#active = new SlotLoader('active', options.source, engine, options, log);
    this.#shadow = options.shadow
      ? new SlotLoader('shadow', options.shadow, engine, options, log)
      : null;
  }

  /** The current status, for the HTTP API and metrics. */
  status(): BundleStatus {
    const shadow = this.#shadow;
    const { evaluated, divergences, dropped } = this.engine.shadowStats();
    return structuredClone({
      active: info(this.engine.active),
      ...this.#active.state,
      shadow: shadow && {
        bundle: info(this.engine.shadow),
        ...shadow.state,
        evaluated,
        divergences,
        dropped,
      },
    });
  }

  /** Loads the bundles once, then watches (file, folder) or polls (URL) for new versions. */
  async start(): Promise<BundleStatus> {
    const status = await this.reload();
    this.#active.watch();
    this.#shadow?.watch();
    return status;
  }

  /** Loads the sources now; concurrent calls share one load per source. */
  async reload(): Promise<BundleStatus> {
    await Promise.all([this.#active.load(), this.#shadow?.load()]);
    return this.status();
  }

  /** Stops watching and polling. */
  close(): void {
    this.#active.close();
    this.#shadow?.close();
  }
}

function info(bundle: LoadedBundle | null): BundleInfo | null {
  if (!bundle) return null;
  return {
    revision: bundle.stamp.revision,
    hash: bundle.stamp.hash,
    source: bundle.source,
    loaded_at: bundle.loadedAt.toISOString(),
    signed: bundle.signature !== null,
  };
}
