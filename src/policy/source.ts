/**
 * Where bundles come from and how they are fetched: a bundle file, a folder of Rego compiled
 * in-process, or an HTTP(S) bundle server polled the way OPA's bundle plugin polls one
 * (`If-None-Match` with the last `ETag`, `304 Not Modified` meaning "keep what you have",
 * bearer-token credentials, exponential backoff with jitter after failures).
 */
import { readFile } from 'node:fs/promises';
import { PgwardenError } from '../errors.js';

/** Where bundles come from. */
export type BundleSource =
  | { kind: 'file'; path: string }
  | {
      kind: 'dir';
      path: string;
      /** Compile the folder's Rego in v0 syntax. */
      v0Compatible?: boolean;
    }
  | {
      kind: 'url';
      url: string;
      /** Polling interval while the server answers. */
      pollSeconds: number;
      /** Longest wait between attempts after failures; ten times `pollSeconds` by default. */
      pollMaxSeconds?: number;
      bearerToken?: () => string;
    };

/** Builds a folder of Rego and data into a bundle archive (the project's compiler). */
export type BuildDir = (dir: string, options: { v0Compatible: boolean }) => Promise<Buffer>;

/** Bundles bigger than this are refused before they are unpacked (same limit as the file). */
const MAX_DOWNLOAD_BYTES = 256 * 1024 * 1024;

/** The source as status and audit name it: the path or URL. */
export function sourceLabel(source: BundleSource): string {
  return source.kind === 'url' ? source.url : source.path;
}

/**
 * Milliseconds until the next poll: `baseMs` while healthy; after `failures` consecutive
 * failures, `baseMs * 2^failures` capped at `maxMs`; then scaled by a random factor in
 * [0.8, 1.2) so a fleet of gateways does not poll in step.
 */
export function nextPollDelay(
  baseMs: number,
  maxMs: number,
  failures: number,
  random: () => number = Math.random,
): number {
  const backoff = Math.min(baseMs * 2 ** Math.min(failures, 20), Math.max(maxMs, baseMs));
  return backoff * (0.8 + random() * 0.4);
}

/** Fetches archives from one source, remembering the server's ETag between calls. */
export class SourceFetcher {
  #etag: string | null = null;

  constructor(
    readonly source: BundleSource,
    private readonly buildDir?: BuildDir,
  ) {}

  /** The archive, or null when the server says it has not changed since the last fetch. */
  async fetch(): Promise<Buffer | null> {
    const { source } = this;
    if (source.kind === 'file') {
      return readFile(source.path).catch((err: unknown) => {
        throw new PgwardenError('ERR_BUNDLE_INVALID', `cannot read bundle ${source.path}`, {
          cause: err,
        });
      });
    }
    if (source.kind === 'dir') {
      if (!this.buildDir) {
        throw new PgwardenError('ERR_BUNDLE_INVALID', 'no compiler available for a folder source');
      }
      return this.buildDir(source.path, { v0Compatible: source.v0Compatible === true });
    }
    return this.#download(source);
  }

  /** Forgets the ETag, so the next fetch downloads the bundle again. */
  forget(): void {
    this.#etag = null;
  }

  async #download(source: Extract<BundleSource, { kind: 'url' }>): Promise<Buffer | null> {
    const headers: Record<string, string> = { accept: 'application/gzip, */*' };
    if (this.#etag) headers['if-none-match'] = this.#etag;
    const token = source.bearerToken?.();
    if (token) headers.authorization = `Bearer ${token}`;
    let response: Response;
    try {
      response = await fetch(source.url, { headers, signal: AbortSignal.timeout(30_000) });
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      throw new PgwardenError('ERR_BUNDLE_INVALID', `bundle server unreachable: ${reason}`, {
        cause: err,
      });
    }
    if (response.status === 304) return null;
    if (!response.ok) {
      await response.body?.cancel();
      throw new PgwardenError('ERR_BUNDLE_INVALID', `bundle server answered ${response.status}`);
    }
    const length = Number(response.headers.get('content-length') ?? '0');
    if (length > MAX_DOWNLOAD_BYTES) {
      await response.body?.cancel();
      throw new PgwardenError('ERR_BUNDLE_INVALID', 'bundle larger than 256 MiB');
    }
    const archive = Buffer.from(await response.arrayBuffer());
    if (archive.length > MAX_DOWNLOAD_BYTES) {
      throw new PgwardenError('ERR_BUNDLE_INVALID', 'bundle larger than 256 MiB');
    }
    // The ETag is kept only once the archive arrived whole; the manager forgets it again when
    // the archive turns out unusable, so a fixed bundle under the same ETag is fetched again.
    this.#etag = response.headers.get('etag');
    return archive;
  }
}
