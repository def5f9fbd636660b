// Compiles src/audit (and what it imports) to plain JavaScript in a temporary folder, so a test
// can run the trail in a child process it then kills; Node 20 cannot import the .ts sources.
import { spawnSync } from 'node:child_process';
import { copyFile, mkdtemp, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..', '..', '..');

/** Returns the folder holding `audit/index.js` and a `node_modules` link to the project's. */
export async function compileAudit(): Promise<string> {
  const out = await mkdtemp(join(tmpdir(), 'pgw-audit-build-'));
  const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  const args = [tsc, '--outDir', out, '--rootDir', join(root, 'src'), '--module', 'nodenext'];
  args.push('--moduleResolution', 'nodenext', '--target', 'es2022', '--skipLibCheck');
  args.push('--types', 'node', '--esModuleInterop', join(root, 'src', 'audit', 'index.ts'));
  // Type errors elsewhere in the tree do not stop tsc from emitting; a missing file would.
  spawnSync(process.execPath, args, { stdio: 'ignore' });
  await writeFile(join(out, 'package.json'), '{"type":"module"}\n');
  await symlink(join(root, 'node_modules'), join(out, 'node_modules'));
  return out;
}

/**
 * Compiles all of src into `<folder>/dist` of a temporary folder laid out like the package
 * (package.json, the prebuilt policy runtime, links to rego/, src/ and node_modules), so a child
 * process can run the whole gateway from the current sources. Returns the folder.
 */
export async function compilePackage(): Promise<string> {
  const out = await mkdtemp(join(tmpdir(), 'pgw-package-build-'));
  const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  const args = [tsc, '-p', join(root, 'tsconfig.json'), '--outDir', join(out, 'dist')];
  args.push('--sourceMap', 'false', '--incremental', 'false');
  spawnSync(process.execPath, args, { stdio: 'ignore' });
  await copyFile(join(root, 'package.json'), join(out, 'package.json'));
  await copyFile(join(root, 'dist', 'rego-runtime.wasm'), join(out, 'dist', 'rego-runtime.wasm'));
  for (const name of ['node_modules', 'rego', 'src']) {
    await symlink(join(root, name), join(out, name));
  }
  return out;
}
