/**
 * Finds the prebuilt policy runtime (dist/rego-runtime.wasm, made by `npm run build:runtime`).
 * In a source checkout where it is missing or older than its AssemblyScript sources, it is
 * rebuilt once, so tests never run against a stale runtime.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PgwardenError } from '../../errors.js';

let cached: Uint8Array | undefined;

/** The package root: the nearest folder above this file holding pgwarden's package.json. */
function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      const name = (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name;
      if (name === 'pgwarden') return dir;
    }
    const up = dirname(dir);
    if (up === dir) throw new PgwardenError('ERR_INTERNAL', 'pgwarden package root not found');
    dir = up;
  }
}

function newestSource(dir: string): number {
  let newest = 0;
  for (const name of readdirSync(dir)) {
    if (name.endsWith('.ts')) newest = Math.max(newest, statSync(join(dir, name)).mtimeMs);
  }
  return newest;
}

/** Bytes of the runtime module; builds it first when needed (source checkouts only). */
export function runtimeWasm(): Uint8Array {
  if (cached) return cached;
  const root = packageRoot();
  const wasm = join(root, 'dist', 'rego-runtime.wasm');
  const sources = join(root, 'src', 'rego', 'runtime', 'assembly');
  const script = join(root, 'scripts', 'build-runtime.mjs');
  const stale =
    !existsSync(wasm) || (existsSync(sources) && newestSource(sources) > statSync(wasm).mtimeMs);
  if (stale) {
    if (!existsSync(script)) {
      throw new PgwardenError('ERR_INTERNAL', `policy runtime missing: ${wasm}`);
    }
    // The build script prints its own progress; keep it off our stdout.
    execFileSync(process.execPath, [script], { cwd: root, stdio: ['ignore', 'ignore', 'pipe'] });
  }
  cached = new Uint8Array(readFileSync(wasm));
  return cached;
}
