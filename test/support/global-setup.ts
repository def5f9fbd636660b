// Starts one real PostgreSQL for the whole test run and hands its address to every test file.
import type { TestProject } from 'vitest/node';
import { startEmbeddedPostgres } from '../../src/cli/embedded-postgres.js';

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const server = await startEmbeddedPostgres();
  project.provide('pg', {
    host: server.host,
    port: server.port,
    user: server.user,
    password: server.password,
  });
  return () => server.stop();
}

declare module 'vitest' {
  export interface ProvidedContext {
    pg: { host: string; port: number; user: string; password: string };
  }
}
