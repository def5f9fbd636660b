import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createServer as createTcpServer, type AddressInfo } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import selfsigned from 'selfsigned';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openAuditSink, type AuditConfig } from '../../src/audit/index.js';

let dir: string;
const closers: Array<() => unknown> = [];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pgw-audit-fwd-'));
});

afterEach(async () => {
  for (const close of closers.splice(0)) await close();
  await rm(dir, { recursive: true, force: true });
});

function auditConfig(forward: AuditConfig['forward']): AuditConfig {
  return {
    dir: join(dir, 'trail'),
    sink: 'file',
    signing_key_file: join(dir, 'key.jwk'),
    durability: 'batched',
    batch_interval: 2,
    rotate_bytes: 64 * 1024 * 1024,
    rotate_seconds: 86_400,
    checkpoint_every: 1000,
    checkpoint_seconds: 60,
    record_rows: { databases: [], identities: [], max_bytes: 65_536 },
    retention_days: 365,
    forward,
  };
}

async function body(req: IncomingMessage): Promise<string> {
  let text = '';
  for await (const chunk of req) text += String(chunk);
  return text;
}

async function listen(
  server: Server | ReturnType<typeof createTcpServer> | ReturnType<typeof createTlsServer>,
): Promise<number> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  closers.push(() => new Promise((r) => server.close(r)));
  return (server.address() as AddressInfo).port;
}

async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
}

describe('audit forwarding', () => {
  it('POSTs every record as JSON lines, retrying a failed batch', async () => {
    const received: Record<string, unknown>[] = [];
    let requests = 0;
    const auth: string[] = [];
    const server = createServer((req, res) => {
      void body(req).then((text) => {
        requests++;
        auth.push(String(req.headers.authorization));
        // The first request fails: the batch must come again.
        if (requests === 1) {
          res.writeHead(503).end();
          return;
        }
        for (const line of text.trim().split('\n')) received.push(JSON.parse(line));
        res.writeHead(204).end();
      });
    });
    const port = await listen(server);
    const config = auditConfig([
      { url: `http://127.0.0.1:${port}/ingest`, bearer_token_env: 'SIEM_TOKEN' },
    ]);
    const sink = await openAuditSink(config, {
      instance: 'gw1',
      stateDir: dir,
      env: { SIEM_TOKEN: 'siem-secret' },
    });
    for (let i = 0; i < 20; i++) await sink.append('decision', { statement_id: `s-${i}` });
    await sink.close();
    await until(() => received.length >= 22);
    const seqs = received.map((r) => r.seq);
    // Opening checkpoint, 20 decisions, closing checkpoint: all once, in order.
    expect(seqs).toEqual(Array.from({ length: 22 }, (_, i) => i + 1));
    expect(received[1]).toMatchObject({ kind: 'decision', statement_id: 's-0' });
    expect(requests).toBeGreaterThanOrEqual(2);
    expect(auth.every((a) => a === 'Bearer siem-secret')).toBe(true);
    expect(sink.forwardStats()[0]).toMatchObject({ sent: 22, dropped: 0 });
    expect(sink.forwardStats()[0]!.failures).toBeGreaterThanOrEqual(1);
  });

  it('sends RFC 5424 messages with octet counting over syslog TCP', async () => {
    let data = '';
    const server = createTcpServer((socket) => socket.on('data', (d) => (data += String(d))));
    const port = await listen(server);
    const sink = await openAuditSink(auditConfig([{ url: `syslog://127.0.0.1:${port}` }]), {
      instance: 'gw1',
      stateDir: dir,
    });
    await sink.append('execution', { statement_id: 's-1', command_tag: 'SELECT 1' });
    await sink.close();
    const frames: string[] = [];
    await until(() => {
      frames.length = 0;
      let rest = data;
      while (rest.length > 0) {
        const space = rest.indexOf(' ');
        const length = Number(rest.slice(0, space));
        const bytes = Buffer.from(rest.slice(space + 1));
        if (bytes.length < length) break;
        const frame = bytes.subarray(0, length).toString();
        frames.push(frame);
        rest = bytes.subarray(length).toString();
      }
      return frames.length >= 3;
    });
    expect(frames).toHaveLength(3);
    const m = /^<110>1 (\S+) \S+ pgwarden \d+ (\S+) - (\{.*\})$/.exec(frames[1]!);
    expect(m).not.toBeNull();
    expect(m![2]).toBe('execution');
    const record = JSON.parse(m![3]!) as Record<string, unknown>;
    expect(record).toMatchObject({ seq: 2, kind: 'execution', command_tag: 'SELECT 1' });
    expect(m![1]).toBe(record.time);
  });

  it('never holds statements when the target is down', async () => {
    const server = createServer();
    const port = await listen(server);
    await new Promise((r) => server.close(r));
    const sink = await openAuditSink(auditConfig([{ url: `http://127.0.0.1:${port}/` }]), {
      instance: 'gw1',
      stateDir: dir,
      forwarding: { attempts: 2, backoffMs: 20 },
      forwardCloseMs: 300,
    });
    const started = Date.now();
    for (let i = 0; i < 50; i++) await sink.append('decision', { n: i });
    await sink.flush();
    expect(Date.now() - started).toBeLessThan(1000);
    expect(sink.failed).toBe(false);
    await sink.close();
    const stats = sink.forwardStats()[0]!;
    expect(stats.failures).toBeGreaterThanOrEqual(1);
    // A batch that failed every attempt is dropped and counted, not kept forever.
    await until(() => sink.forwardStats()[0]!.dropped > 0);
    expect(sink.forwardStats()[0]!.dropped).toBeGreaterThan(0);
    expect(sink.forwardStats()[0]!.sent).toBe(0);
  });
});

describe('audit forwarding over TLS', () => {
  /** A certificate for 127.0.0.1 that only `ca.pem` trusts. */
  async function certificate(): Promise<{ key: string; cert: string; caFile: string }> {
    const pems = await selfsigned.generate([{ name: 'commonName', value: 'siem.test' }], {
      keyType: 'ec',
      algorithm: 'sha256',
      extensions: [
        { name: 'basicConstraints', cA: true },
        { name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }] },
      ],
    });
    const caFile = join(dir, 'ca.pem');
    await writeFile(caFile, pems.cert);
    return { key: pems.private, cert: pems.cert, caFile };
  }

  it('sends syslog over TLS to a SIEM trusted through ca_file, and nothing without it', async () => {
    const { key, cert, caFile } = await certificate();
    let data = '';
    const server = createTlsServer({ key, cert }, (socket) =>
      socket.on('data', (d) => (data += String(d))),
    );
    const port = await listen(server);
    const url = `syslog+tls://127.0.0.1:${port}`;
    // Regression: the address was sent as the TLS server name, which RFC 6066 forbids (DEP0123).
    const warnings: string[] = [];
    const onWarning = (w: Error & { code?: string }) => warnings.push(w.code ?? w.message);
    process.on('warning', onWarning);
    closers.push(() => process.off('warning', onWarning));
    const sink = await openAuditSink(
      auditConfig([{ url, ca_file: caFile }, { url: `${url}/untrusted` }]),
      { instance: 'gw1', stateDir: dir, forwarding: { attempts: 1, backoffMs: 10 } },
    );
    await sink.append('execution', { statement_id: 's-1', command_tag: 'SELECT 1' });
    await sink.flush();
    await until(() => data.includes('"command_tag":"SELECT 1"'));
    await until(() => sink.forwardStats()[1]!.dropped > 0);
    await sink.close();
    const frame = /^(\d+) (<110>1 \S+ \S+ pgwarden \d+ checkpoint - \{.*?\})(\d+) /.exec(data);
    expect(frame).not.toBeNull();
    expect(Buffer.byteLength(frame![2]!)).toBe(Number(frame![1]));
    expect(data).toMatch(/ execution - \{.*"command_tag":"SELECT 1".*"seq":2,/);
    // The target without the CA refused the certificate: nothing sent, failures counted.
    const [trusted, untrusted] = sink.forwardStats();
    expect(trusted!.sent).toBeGreaterThanOrEqual(2);
    expect(untrusted!.sent).toBe(0);
    expect(untrusted!.failures).toBeGreaterThan(0);
    expect(warnings).not.toContain('DEP0123');
  });

  it('POSTs JSON lines over HTTPS with the bearer token', async () => {
    const { key, cert, caFile } = await certificate();
    const received: string[] = [];
    const auth: string[] = [];
    const server = createHttpsServer({ key, cert }, (req, res) => {
      auth.push(req.headers.authorization ?? '');
      void body(req).then((text) => {
        received.push(...text.trim().split('\n'));
        res.end();
      });
    });
    const port = await listen(server);
    const sink = await openAuditSink(
      auditConfig([
        {
          url: `https://127.0.0.1:${port}/ingest`,
          ca_file: caFile,
          bearer_token_env: 'PGW_TEST_SIEM_TOKEN',
        },
      ]),
      { instance: 'gw1', stateDir: dir, env: { PGW_TEST_SIEM_TOKEN: 'siem-secret' } },
    );
    await sink.append('decision', { statement_id: 's-1', text: 'SELECT 1' });
    await sink.close();
    await until(() => received.some((l) => l.includes('"statement_id":"s-1"')));
    const records = received.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(records.map((r) => r.kind)).toContain('decision');
    expect(auth.every((a) => a === 'Bearer siem-secret')).toBe(true);
    expect(sink.forwardStats()[0]!.failures).toBe(0);
  });
});
