import { defineConfig } from 'vitest/config';

// The client suite: real psql, pgbench, psycopg and a browser, installed from Debian by .ci/run.
// PGWARDEN_VITEST_JSON adds a JSON report for .ci/run, as in vitest.config.ts.
const json = process.env.PGWARDEN_VITEST_JSON;

export default defineConfig({
  test: {
    include: ['test/clients/**/*.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    testTimeout: 300_000,
    hookTimeout: 300_000,
    pool: 'forks',
    fileParallelism: false,
    ...(json ? { reporters: ['default', 'json'], outputFile: { json } } : {}),
  },
});
