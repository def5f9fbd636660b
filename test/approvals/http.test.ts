// The approvals API over real HTTP, with approvers authenticated by real JWTs from the test
// identity provider and verified by the identity module.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApprovalService, approvalsRouter, memoryStore } from '../../src/approvals/index.js';
import type { HoldRequest } from '../../src/gateway/options.js';
import { createMetrics, startHttpServer } from '../../src/http/index.js';
import { createVerifier, verifyBearer } from '../../src/identity/index.js';
import { IDP_AUDIENCE, startIdp, type TestIdp } from '../support/idp.js';

let idp: TestIdp;
let server: Server;
let base: string;
let approvals: ApprovalService;
let close: () => void;

beforeAll(async () => {
  idp = await startIdp();
  const verifier = createVerifier({
    issuers: [
      { issuer: idp.issuer, audiences: [IDP_AUDIENCE], discovery: true, groupsClaim: 'groups' },
    ],
  });
  approvals = await ApprovalService.start({
    store: memoryStore(),
    instance: 'gw',
    publicUrl: 'http://127.0.0.1',
  });
  server = await startHttpServer({
    host: '127.0.0.1',
    port: 0,
    metrics: createMetrics(),
    ready: () => true,
    authenticate: (token) => verifyBearer(verifier, `Bearer ${token}`, { clientAddr: '127.0.0.1' }),
    adminGroups: ['admins'],
    routers: [{ path: '/', router: approvalsRouter(approvals) }],
  });
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  close = () => verifier.close();
});

afterAll(async () => {
  close();
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  await idp.close();
});

async function tokenFor(sub: string, groups: string[]): Promise<string> {
  return idp.token({ sub, groups });
}

async function call(method: string, path: string, token?: string, body?: unknown) {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  const res = await fetch(base + path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

function held(): HoldRequest {
  return {
    request: { reason: 'bulk export', approvers: ['approvers'], grant_ttl: '1h' },
    decisionId: 'd-1',
    sessionId: 'c-1',
    statementId: 's-1',
    subject: 'ci-job',
    groups: ['etl'],
    database: 'payments',
    text: 'COPY cards TO STDOUT',
    fingerprint: 'fp-http',
    reasons: ['held'],
  };
}

describe('approvals API', () => {
  it('needs a valid bearer token for /v1 routes but serves the page without one', async () => {
    expect((await call('GET', '/v1/approvals')).status).toBe(401);
    expect((await call('GET', '/v1/approvals', 'not-a-jwt')).status).toBe(401);
    const page = await fetch(base + '/approvals');
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('pgwarden approvals');
  });

  it('lets a member of the group approve, refuses the requester and outsiders', async () => {
    const ticket = await approvals.hold(held());
    const requester = await tokenFor('ci-job', ['approvers']);
    const outsider = await tokenFor('eve', ['etl']);
    const approver = await tokenFor('alice', ['approvers']);

    const self = await call('POST', `/v1/approvals/${ticket.id}/approve`, requester, {});
    expect(self).toMatchObject({ status: 403, body: { error: /own request/ } });
    const other = await call('POST', `/v1/approvals/${ticket.id}/approve`, outsider, {});
    expect(other.status).toBe(403);

    const pending = await call('GET', '/v1/approvals?status=pending', approver);
    expect(JSON.stringify(pending.body)).toContain(ticket.id);
    const ok = await call('POST', `/v1/approvals/${ticket.id}/approve`, approver, {
      comment: 'ok for tonight',
    });
    expect(ok).toMatchObject({ status: 200, body: { status: 'approved' } });
    expect((await ticket.outcome).status).toBe('approved');
    const again = await call('POST', `/v1/approvals/${ticket.id}/deny`, approver, {});
    expect(again.status).toBe(409);
    expect((await call('GET', '/v1/approvals/a-nope', approver)).status).toBe(404);
  });

  it('shows a request and its grant only to the requester and the deciding groups', async () => {
    const ticket = await approvals.hold({ ...held(), fingerprint: 'fp-private' });
    const outsider = await tokenFor('eve', ['etl']);
    const requester = await tokenFor('ci-job', ['etl']);
    const listed = await call('GET', '/v1/approvals', outsider);
    expect(JSON.stringify(listed.body)).not.toContain(ticket.id);
    expect((await call('GET', `/v1/approvals/${ticket.id}`, outsider)).status).toBe(404);
    expect((await call('GET', `/v1/approvals/${ticket.id}`, requester)).status).toBe(200);
    expect(JSON.stringify((await call('GET', '/v1/approvals', requester)).body)).toContain(
      ticket.id,
    );
    // The grant of the approved request from the test before: invisible, and not revocable.
    const grants = (await call('GET', '/v1/grants', outsider)).body.grants as unknown[];
    expect(grants).toEqual([]);
    const approver = await tokenFor('alice', ['approvers']);
    const all = (await call('GET', '/v1/grants', approver)).body.grants as Array<{ id: string }>;
    expect(all).toHaveLength(1);
    expect((await call('DELETE', `/v1/grants/${all[0]!.id}`, outsider)).status).toBe(404);
    ticket.cancel();
  });

  it('lists and revokes the grant an approval opened', async () => {
    const approver = await tokenFor('alice', ['approvers']);
    const { body } = await call('GET', '/v1/grants', approver);
    const grants = body.grants as Array<{ id: string; fingerprint: string }>;
    expect(grants.map((g) => g.fingerprint)).toEqual(['fp-http']);
    const revoked = await call('DELETE', `/v1/grants/${grants[0]!.id}`, approver);
    expect(revoked.status).toBe(200);
    expect((await call('GET', '/v1/grants', approver)).body.grants).toEqual([]);
    expect((await call('DELETE', `/v1/grants/${grants[0]!.id}`, approver)).status).toBe(404);
  });
});
