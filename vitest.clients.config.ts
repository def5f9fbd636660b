import { defineConfig } from 'vitest/config';

// The client suite: real psql, pgbench, psycopg and a browser, installed from Debian by .ci/run.
export default defineConfig({
  test: {
    include: ['test/clients/**/*.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    testTimeout: 300_000,
    hookTimeout: 300_000,
    pool: 'forks',
    fileParallelism: false,
  },
});
