// A second PostgreSQL with TLS on, to check TLS to upstream and SCRAM-SHA-256-PLUS for real.
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedPostgres, type EmbeddedServer } from '../../src/cli/embedded-postgres.js';
import { connectUpstream } from '../../src/gateway/upstream.js';
import { startTestGateway } from '../support/gateway.js';

function postgresUser(): { uid: number; gid: number } | null {
  try {
    const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
    return { uid, gid };
  } catch {
    return null;
  }
}

function hasOpenssl(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const owner = process.getuid?.() === 0 ? postgresUser() : null;
const runnable = owner !== null && hasOpenssl();
let server: EmbeddedServer | undefined;
let dir = '';
let cert = '';

beforeAll(async () => {
  if (!runnable) return;
  dir = mkdtempSync(path.join(os.tmpdir(), 'pgwarden-upstream-tls-'));
  chmodSync(dir, 0o755);
  const keyFile = path.join(dir, 'key.pem');
  const certFile = path.join(dir, 'cert.pem');
  execFileSync(
    'openssl',
    ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=localhost']
      .concat(['-addext', 'subjectAltName=DNS:localhost'])
      .concat(['-keyout', keyFile, '-out', certFile]),
    { stdio: 'ignore' },
  );
  // PostgreSQL insists its key belongs to the server's user and nobody else can read it.
  chownSync(keyFile, owner!.uid, owner!.gid);
  chmodSync(keyFile, 0o600);
  chmodSync(certFile, 0o644);
  cert = readFileSync(certFile, 'utf8');
  server = await startEmbeddedPostgres({
    maxConnections: 20,
    settings: { ssl: 'on', ssl_cert_file: certFile, ssl_key_file: keyFile },
  });
}, 120_000);

afterAll(async () => {
  await server?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(!runnable)(
  'upstream TLS (skipped: needs root, a postgres user and openssl)',
  () => {
    it('logs in with SCRAM-SHA-256-PLUS bound to the verified certificate', async () => {
      const upstream = await connectUpstream(
        {
          host: server!.host,
          port: server!.port,
          user: server!.user,
          password: () => server!.password,
          tls: { rejectUnauthorized: true, ca: cert, servername: 'localhost' },
        },
        'postgres',
        {},
        1 << 20,
      );
      expect(upstream.tls).toBe(true);
      expect(upstream.method).toBe('SCRAM-SHA-256-PLUS');
      upstream.socket.destroy();
    });

    it('relays through a TLS upstream; refuses an unverifiable certificate', async () => {
      const upstream = {
        host: server!.host,
        port: server!.port,
        user: server!.user,
        password: () => server!.password,
        tls: { rejectUnauthorized: true, ca: cert, servername: 'localhost' },
        allowSuperuser: true,
      };
      const gw = await startTestGateway({ upstream });
      try {
        const client = await gw.connect('postgres');
        const { rows } = await client.query(
          'SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()',
        );
        expect(rows[0].ssl).toBe(true);
        await client.end();
      } finally {
        await gw.close();
      }
      const wrongName = startTestGateway({
        upstream: { ...upstream, tls: { ...upstream.tls, servername: 'elsewhere.invalid' } },
      });
      await expect(wrongName).rejects.toMatchObject({ code: 'ERR_UPSTREAM' });
      const wrongPassword = startTestGateway({ upstream: { ...upstream, password: () => 'nope' } });
      await expect(wrongPassword).rejects.toMatchObject({ code: 'ERR_UPSTREAM' });
    });
  },
);
