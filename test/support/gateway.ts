// Starts a gateway in front of the test run's PostgreSQL, with the test doubles by default.
import pg from 'pg';
import { startGateway, type Gateway, type GatewayOptions } from '../../src/gateway/index.js';
import { functionDecider, keywordAnalyzer, MemoryAudit, testVerifier } from './gateway-fixtures.js';
import { testServer } from './pg.js';

/** A started gateway with its audit sink, and helpers to connect through it. */
export interface TestGateway {
  gateway: Gateway;
  audit: MemoryAudit;
  options: GatewayOptions;
  /** A connected `pg` client through the gateway. */
  connect(database: string, token?: string): Promise<pg.Client>;
  /** `pg` connection settings for the gateway. */
  config(database: string, token?: string): pg.ClientConfig;
  close(): Promise<void>;
}

/** Starts a gateway on a free loopback port; `overrides` replace any option. */
export async function startTestGateway(
  overrides: Partial<GatewayOptions> = {},
): Promise<TestGateway> {
  const server = testServer();
  const audit = (overrides.audit as MemoryAudit | undefined) ?? new MemoryAudit();
  const decider = functionDecider();
  const options: GatewayOptions = {
    listen: { host: '127.0.0.1', port: 0 },
    allowPlaintextLoopback: true,
    upstream: {
      host: server.host,
      port: server.port,
      user: server.user,
      password: () => server.password,
      // The harness only has its superuser; production refuses one by default.
      allowSuperuser: true,
    },
    verifier: testVerifier(),
    analyzer: keywordAnalyzer(),
    decider: () => decider,
    audit,
    ...overrides,
  };
  const gateway = await startGateway(options);
  const config = (database: string, token = 'test:ci-job:etl'): pg.ClientConfig => ({
    host: '127.0.0.1',
    port: gateway.address.port,
    user: 'ci',
    password: token,
    database,
  });
  return {
    gateway,
    audit,
    options,
    config,
    async connect(database, token) {
      const client = new pg.Client(config(database, token));
      await client.connect();
      return client;
    },
    close: () => gateway.close(),
  };
}
