import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import tls from 'node:tls';
import pg from 'pg';
import { passwordMessage, queryMessage, startupMessage } from '../../src/wire/index.js';
import type { AuthContext } from '../../src/identity/types.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { testVerifier } from '../support/gateway-fixtures.js';
import { createDatabase, directClient } from '../support/pg.js';

function openssl(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const hasOpenssl = openssl();
let cert = '';
let key = '';
let database: string;
const open: TestGateway[] = [];

beforeAll(async () => {
  database = await createDatabase('gw_tls');
  if (!hasOpenssl) return;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pgwarden-tls-'));
  execFileSync(
    'openssl',
    ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=localhost']
      .concat(['-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1'])
      .concat(['-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem')]),
    { stdio: 'ignore' },
  );
  cert = readFileSync(path.join(dir, 'cert.pem'), 'utf8');
  key = readFileSync(path.join(dir, 'key.pem'), 'utf8');
  rmSync(dir, { recursive: true, force: true });
});

afterAll(async () => {
  for (const gw of open.reverse()) await gw.close();
});

describe.skipIf(!hasOpenssl)(
  'TLS (skipped: the openssl CLI is needed to make a certificate)',
  () => {
    it('negotiates TLS on SSLRequest and verifies the token over it', async () => {
      const seen: AuthContext[] = [];
      const gw = await startTestGateway({
        tls: { cert, key },
        allowPlaintextLoopback: false,
        verifier: testVerifier(seen),
      });
      open.push(gw);
      const client = new pg.Client({
        ...gw.config(database),
        ssl: { ca: cert, servername: 'localhost' },
      });
      await client.connect();
      const { rows } = await client.query('SELECT 1 AS one');
      expect(rows[0].one).toBe(1);
      await client.end();
      expect(seen.at(-1)?.tls).toBe(true);
      const plain = await gw.connect(database).catch((e: unknown) => e);
      expect((plain as pg.DatabaseError).code).toBe('28000');
    });

    it('accepts direct TLS (sslnegotiation=direct) with ALPN "postgresql" only', async () => {
      const gw = await startTestGateway({ tls: { cert, key }, allowPlaintextLoopback: false });
      open.push(gw);
      const connect = (alpn: string[] | undefined) =>
        new Promise<tls.TLSSocket>((resolve, reject) => {
          const socket = tls.connect({
            port: gw.gateway.address.port,
            host: '127.0.0.1',
            servername: 'localhost',
            ca: cert,
            ALPNProtocols: alpn,
          });
          socket.once('secureConnect', () => resolve(socket));
          socket.once('error', reject);
        });
      const socket = await connect(['postgresql']);
      const received: Buffer[] = [];
      socket.on('data', (chunk: Buffer) => received.push(chunk));
      socket.write(startupMessage({ user: 'direct', database }));
      await new Promise((r) => setTimeout(r, 100));
      socket.write(passwordMessage('test:direct-tls'));
      await new Promise((r) => setTimeout(r, 300));
      socket.write(queryMessage('SELECT 7'));
      await new Promise((r) => setTimeout(r, 300));
      const all = Buffer.concat(received);
      expect(all[0]).toBe(0x52);
      // AuthenticationOk, then a DataRow with "7" somewhere after it.
      expect(all.includes(Buffer.from([0x44, 0, 0, 0, 11, 0, 1, 0, 0, 0, 1, 0x37]))).toBe(true);
      socket.destroy();
      const noAlpn = await connect(undefined).then(
        (s) => new Promise<boolean>((resolve) => s.once('close', () => resolve(true))),
        () => true,
      );
      expect(noAlpn).toBe(true);
    });

    it('connects upstream over TLS with certificate verification', async () => {
      // A TLS-only gateway stands in for a TLS-enabled PostgreSQL: the gateway under test must
      // negotiate TLS, verify the certificate and answer the cleartext password request.
      const front = await startTestGateway({ tls: { cert, key }, allowPlaintextLoopback: false });
      open.push(front);
      const chained = await startTestGateway({
        upstream: {
          host: '127.0.0.1',
          port: front.gateway.address.port,
          user: 'chained',
          password: () => 'test:chained-upstream:etl',
          tls: { rejectUnauthorized: true, ca: cert, servername: 'localhost' },
          allowSuperuser: true,
        },
      });
      open.push(chained);
      const client = await chained.connect(database);
      const { rows } = await client.query('SELECT 2 AS two');
      expect(rows[0].two).toBe(2);
      await client.end();
      const untrusted = await startTestGateway({
        upstream: { ...chained.options.upstream, tls: { rejectUnauthorized: true } },
      }).catch((e: unknown) => e);
      expect((untrusted as { code?: string }).code).toBe('ERR_UPSTREAM');
    });
  },
);

describe('upstream role', () => {
  it('assumes the role mapped from the groups with SET ROLE', async () => {
    const role = `gw_reader_${process.pid}`;
    const admin = await directClient(database);
    await admin.query(`DROP ROLE IF EXISTS ${role}`);
    await admin.query(`CREATE ROLE ${role} NOLOGIN`);
    try {
      const gw = await startTestGateway({});
      open.push(gw);
      gw.options.upstream.roleForGroups = (groups) => (groups.includes('etl') ? role : undefined);
      const client = await gw.connect(database);
      const { rows } = await client.query('SELECT current_user AS u');
      expect(rows[0].u).toBe(role);
      for (const escape of [
        'RESET ROLE',
        'SET ROLE postgres',
        "SELECT set_config('role', 'none', false)",
      ]) {
        const err = await client.query(escape).catch((e: unknown) => e);
        expect((err as Error).message, escape).toMatch(/would leave the role/);
      }
      expect((await client.query('SELECT current_user AS u')).rows[0].u).toBe(role);
      await client.end();
      const other = await gw.connect(database, 'test:someone:web');
      expect((await other.query('SELECT current_user AS u')).rows[0].u).toBe('postgres');
      await other.end();
    } finally {
      await admin.query(`DROP ROLE IF EXISTS ${role}`).catch(() => undefined);
      await admin.end();
    }
  });
});
