// Load: 500 client connections open at once through one gateway, every one authenticated by its
// token, served its own query, and counted by the gateway's open-sessions gauge.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDemoProcess, type DemoProcess } from './support/demo.js';

const CONNECTIONS = Number(process.env.PGWARDEN_LOAD_CONNECTIONS ?? 500);

let demo: DemoProcess;

beforeAll(async () => {
  demo = await startDemoProcess();
});

afterAll(async () => {
  await demo?.stop();
});

async function openSessions(): Promise<number> {
  const text = await (await fetch(`${demo.info.http}/metrics`)).text();
  return Number(/^pgwarden_sessions_open (\d+)/m.exec(text)?.[1] ?? NaN);
}

describe(`${CONNECTIONS} concurrent connections through one gateway`, () => {
  it('serves every one of them, each its own masked row', async () => {
    const identities = ['etl', 'analyst'];
    const tokens = Object.fromEntries(
      await Promise.all(identities.map(async (n) => [n, await demo.token(n)] as const)),
    );
    const clients = Array.from({ length: CONNECTIONS }, (_, i) => {
      const user = identities[i % identities.length]!;
      return new pg.Client({
        host: demo.info.gateway.host,
        port: demo.info.gateway.port,
        database: 'payments',
        user,
        password: tokens[user],
        application_name: `load-${i}`,
        connectionTimeoutMillis: 120_000,
      });
    });
    const errors: unknown[] = [];
    for (const client of clients) client.on('error', (err) => errors.push(err));
    try {
      // All at once: connect every client, and only then query, so all are open together.
      await Promise.all(clients.map((c) => c.connect()));
      expect(await openSessions()).toBeGreaterThanOrEqual(CONNECTIONS);

      const results = await Promise.all(
        clients.map((c, i) =>
          c.query('SELECT id, pan, $1::int AS n FROM cards WHERE id = $2', [i, (i % 10) + 1]),
        ),
      );
      results.forEach((result, i) => {
        expect(result.rows).toHaveLength(1);
        expect(result.rows[0].n).toBe(i);
        expect(result.rows[0].id).toBe((i % 10) + 1);
        expect(result.rows[0].pan).toMatch(/^\*+\d{4}$/);
      });
      expect(errors).toEqual([]);
    } finally {
      await Promise.all(clients.map((c) => c.end().catch(() => undefined)));
    }

    // Every session ends upstream too: the gauge falls back.
    const deadline = Date.now() + 20_000;
    while ((await openSessions()) > 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect(await openSessions()).toBe(0);
    expect(demo.exited).toBeNull();
  });
});
