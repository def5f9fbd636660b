// The approval webhook against a real HTTP server on loopback that fails before it answers.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ApprovalService, memoryStore, postWebhook } from '../../src/approvals/index.js';
import type { ApprovalRecord } from '../../src/approvals/index.js';

let server: Server;
let url: string;
let failFirst = 0;
const calls: Array<{ at: number; type: string | undefined; body: unknown }> = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    let text = '';
    req.on('data', (chunk: Buffer) => (text += chunk.toString()));
    req.on('end', () => {
      calls.push({ at: Date.now(), type: req.headers['content-type'], body: JSON.parse(text) });
      res.statusCode = calls.length <= failFirst ? 503 : 204;
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

beforeEach(() => {
  calls.length = 0;
});

/** A real stored request, made by the service from a held statement. */
async function storedRequest(): Promise<ApprovalRecord> {
  let stored: ApprovalRecord | undefined;
  const approvals = await ApprovalService.start({
    store: memoryStore(),
    instance: 'gw-1',
    publicUrl: 'http://x',
    onRequest: (record) => (stored = record),
  });
  const ticket = await approvals.hold({
    request: { reason: 'bulk export', approvers: ['approvers'] },
    decisionId: 'd-1',
    sessionId: 'c-1',
    statementId: 's-1',
    subject: 'ci-job',
    groups: ['etl'],
    database: 'payments',
    text: "SELECT * FROM cards WHERE pan = '4111111111111111'",
    fingerprint: 'fp-1',
    reasons: ['held'],
  });
  ticket.cancel();
  await ticket.outcome;
  return stored!;
}

describe('approval webhook', () => {
  it('posts the new request as JSON, retrying with doubling delays until it is taken', async () => {
    failFirst = 2;
    const request = await storedRequest();
    expect(await postWebhook(url, request, { retries: 3, firstDelayMs: 50 })).toBe(true);
    expect(calls).toHaveLength(3);
    for (const call of calls) {
      expect(call.type).toBe('application/json');
      expect(call.body).toEqual({ type: 'approval.requested', request });
    }
    expect(JSON.stringify(calls[0]!.body)).not.toContain('4111111111111111');
    expect(calls[1]!.at - calls[0]!.at).toBeGreaterThanOrEqual(45);
    expect(calls[2]!.at - calls[1]!.at).toBeGreaterThanOrEqual(95);
  });

  it('gives up after the configured retries', async () => {
    failFirst = 100;
    const request = await storedRequest();
    expect(await postWebhook(url, request, { retries: 2, firstDelayMs: 10 })).toBe(false);
    expect(calls).toHaveLength(3);
    expect(await postWebhook(url, request, { retries: 0 })).toBe(false);
    expect(calls).toHaveLength(4);
  });

  it('treats an endpoint that is down as a failure, not an exception', async () => {
    const request = await storedRequest();
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const down = `http://127.0.0.1:${port}/hook`;
    expect(await postWebhook(down, request, { retries: 1, firstDelayMs: 10 })).toBe(false);
  });
});
