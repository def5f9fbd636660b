/**
 * Keeping a bundle in force: loading it from its source (a bundle file, a folder of Rego built
 * in-process, or an HTTP bundle server polled like OPA's bundle service), swapping it into the
 * engine, and keeping the last good bundle when a newer one fails to load.
 */
import { watch, type FSWatcher } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { PgwardenError } from '../errors.js';
import { silentLogger, type Logger } from '../logger.js';
import { loadBundleArchive, type HostBuiltins, type PolicyEngine } from './engine.js';

/** Where bundles come from. */
export type BundleSource =
  | { kind: 'file'; path: string }
  | { kind: 'dir'; path: string }
  | { kind: 'url'; url: string; pollSeconds: number; bearerToken?: () => string };

/** An event worth auditing: a bundle put in force, or one that failed. */
export interface BundleEvent {
  event: 'loaded' | 'failed';
  source: string;
  revision?: string;
  hash?: string;
  previousHash?: string | null;
  error?: string;
}

/** What `GET /v1/bundles` shows. */
export interface BundleStatus {
  active: null | { revision: string; hash: string; source: string; loaded_at: string };
  last_error: null | { at: string; message: string };
  last_attempt: string | null;
}

/** Options of a {@link BundleManager}. */
export interface BundleManagerOptions {
  source: BundleSource;
  entrypoint?: string;
  builtins?: HostBuiltins;
  /** Builds a folder of Rego and data into a bundle archive (the project's compiler). */
  buildDir?: (dir: string) => Promise<Buffer>;
  /** Checks a bundle archive before it is loaded (signature verification). */
  verify?: (archive: Buffer) => Promise<void>;
  onEvent?: (event: BundleEvent) => void;
  logger?: Logger;
}

/** Loads bundles from one source into an engine and keeps them fresh. */
export class BundleManager {
  #status: BundleStatus = { active: null, last_error: null, last_attempt: null };
  #watcher: FSWatcher | null = null;
  #timer: NodeJS.Timeout | null = null;
  #etag: string | null = null;
  #failures = 0;
  #loading: Promise<BundleStatus> | null = null;
  readonly #log: Logger;

  constructor(
    readonly engine: PolicyEngine,
    private readonly options: BundleManagerOptions,
  ) {
    this.#log = (options.logger ?? silentLogger).child({ component: 'bundles' });
  }

  /** The current status, for the HTTP API and metrics. */
  status(): BundleStatus {
    return structuredClone(this.#status);
  }

  /** Loads the bundle once, then watches (file, folder) or polls (URL) for new versions. */
  async start(): Promise<BundleStatus> {
    const status = await this.reload();
    const { source } = this.options;
    if (source.kind === 'url') this.#schedule(source.pollSeconds * 1000);
    else {
      this.#watcher = watch(source.path, { recursive: source.kind === 'dir' }, () => {
        // Editors write in several steps; wait for them to settle before rebuilding.
        if (this.#timer) clearTimeout(this.#timer);
        this.#timer = setTimeout(() => void this.reload(), 200);
      });
    }
    return status;
  }

  /** Loads the source now; concurrent calls share one load. */
  reload(): Promise<BundleStatus> {
    this.#loading ??= this.#load().finally(() => (this.#loading = null));
    return this.#loading;
  }

  /** Stops watching and polling. */
  close(): void {
    this.#watcher?.close();
    if (this.#timer) clearTimeout(this.#timer);
    this.#watcher = null;
    this.#timer = null;
  }

  async #load(): Promise<BundleStatus> {
    const { source } = this.options;
    const label = source.kind === 'url' ? source.url : source.path;
    this.#status.last_attempt = new Date().toISOString();
    try {
      const archive = await this.#fetch();
      if (archive === null) return this.status(); // not modified
      await this.options.verify?.(archive);
      const bundle = await loadBundleArchive(archive, {
        source: label,
        entrypoint: this.options.entrypoint,
        builtins: this.options.builtins,
      });
      const previous = this.engine.swap(bundle);
      this.#status.active = {
        revision: bundle.stamp.revision,
        hash: bundle.stamp.hash,
        source: label,
        loaded_at: bundle.loadedAt.toISOString(),
      };
      this.#status.last_error = null;
      this.#failures = 0;
      this.#log.info({ revision: bundle.stamp.revision, hash: bundle.stamp.hash }, 'bundle loaded');
      this.options.onEvent?.({
        event: 'loaded',
        source: label,
        revision: bundle.stamp.revision,
        hash: bundle.stamp.hash,
        previousHash: previous?.stamp.hash ?? null,
      });
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      this.#failures++;
      this.#status.last_error = { at: new Date().toISOString(), message };
      this.#log.error({ err: message }, 'bundle load failed; the last good bundle stays in force');
      this.options.onEvent?.({ event: 'failed', source: label, error: message });
    }
    return this.status();
  }

  /** Reads the archive from the source; null when an HTTP server says it has not changed. */
  async #fetch(): Promise<Buffer | null> {
    const { source } = this.options;
    if (source.kind === 'file') return readFile(source.path);
    if (source.kind === 'dir') {
      if (!this.options.buildDir) {
        throw new PgwardenError('ERR_BUNDLE_INVALID', 'no compiler available for a folder source');
      }
      return this.options.buildDir(source.path);
    }
    const headers: Record<string, string> = {};
    if (this.#etag) headers['if-none-match'] = this.#etag;
    const token = source.bearerToken?.();
    if (token) headers.authorization = `Bearer ${token}`;
    const response = await fetch(source.url, { headers, signal: AbortSignal.timeout(30_000) });
    if (response.status === 304) return null;
    if (!response.ok) {
      throw new PgwardenError('ERR_BUNDLE_INVALID', `bundle server answered ${response.status}`);
    }
    const archive = Buffer.from(await response.arrayBuffer());
    this.#etag = response.headers.get('etag');
    return archive;
  }

  #schedule(baseMs: number): void {
    // Back off exponentially after failures, with jitter so a fleet does not poll in step.
    const backoff = Math.min(baseMs * 2 ** Math.min(this.#failures, 6), 10 * 60_000);
    const delay = backoff * (0.8 + Math.random() * 0.4);
    this.#timer = setTimeout(() => {
      void this.reload().finally(() => {
        if (this.#timer) this.#schedule(baseMs);
      });
    }, delay);
    this.#timer.unref();
  }
}
