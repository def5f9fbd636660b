// Lockout on the HTTP API counts failures per caller address: failed bearer tokens from one
// address must not lock out approvers calling from another (they were all counted as "http").
import { request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMetrics, startHttpServer } from '../../src/http/index.js';
import {
  createVerifier,
  verifyBearer,
  type AuthEvent,
  type ClosableVerifier,
} from '../../src/identity/index.js';
import { IDP_AUDIENCE, startIdp, type TestIdp } from '../support/idp.js';

let idp: TestIdp;
let verifier: ClosableVerifier;
let server: Server;
let port: number;
const events: AuthEvent[] = [];

beforeAll(async () => {
  idp = await startIdp();
  verifier = createVerifier({
    issuers: [{ issuer: idp.issuer, audiences: [IDP_AUDIENCE], jwksUri: idp.jwksUri }],
    lockout: { maxAttempts: 3, durationMs: 60_000 },
    onEvent: (event) => events.push(event),
  });
  server = await startHttpServer({
    host: '127.0.0.1',
    port: 0,
    metrics: createMetrics(),
    ready: () => true,
    // As src/cli/app.ts wires it.
    authenticate: (token, caller) => verifyBearer(verifier, `Bearer ${token}`, caller),
    adminGroups: [],
    bundles: { status: () => ({ active: null }), reload: async () => ({}) },
  });
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  verifier?.close();
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
  await idp?.close();
});

/** GET /v1/bundles from a chosen loopback source address. */
function get(from: string, token: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: '127.0.0.1',
        port,
        path: '/v1/bundles',
        localAddress: from,
        headers: { authorization: `Bearer ${token}` },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

describe('HTTP API lockout', () => {
  it('locks the failing caller address only, and audits the real address', async () => {
    const forged = await idp.token({ sub: 'mallory' }, { audience: 'elsewhere' });
    for (let i = 0; i < 3; i++) expect(await get('127.0.0.2', forged)).toBe(401);
    expect(events.at(-1)).toMatchObject({ outcome: 'failure', clientAddr: '127.0.0.2' });
    expect(events.at(-1)!.locked).toContain('addr:127.0.0.2');

    const good = await idp.token({ sub: 'approver-ann' });
    expect(await get('127.0.0.1', good)).toBe(200);
    expect(events.at(-1)).toMatchObject({ outcome: 'success', clientAddr: '127.0.0.1' });
    // The locked address stays locked even with a valid token.
    expect(await get('127.0.0.2', good)).toBe(401);
  });
});
