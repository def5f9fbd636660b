// Compiles src/audit (and what it imports) to plain JavaScript in a temporary folder, so a test
// can run the trail in a child process it then kills; Node 20 cannot import the .ts sources.
import { spawnSync } from 'node:child_process';
import { mkdtemp, symlink, writeFile } from 'node:fs/promises';
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
