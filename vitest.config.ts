import { defineConfig } from 'vitest/config';

// .ci/run sets PGWARDEN_VITEST_JSON to a file path to get a machine-readable report beside the
// usual output, so CI can run `npm test` exactly as the README says and still count the tests.
const json = process.env.PGWARDEN_VITEST_JSON;

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['test/clients/**', 'node_modules/**'],
    globalSetup: ['test/support/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    ...(json ? { reporters: ['default', 'json'], outputFile: { json } } : {}),
  },
});
