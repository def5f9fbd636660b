/**
 * `pgwarden demo`: a whole gateway on one machine. An embedded PostgreSQL with a small
 * cardholder database, a local identity provider, the shipped policy built from `rego/` by the
 * project's own compiler, the gateway on 127.0.0.1:6432 and the HTTP server on 127.0.0.1:8181.
 * State (keys, data, audit trail) lives in the state folder, so a second start is quick.
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import selfsigned from 'selfsigned';
import { stringify } from 'yaml';
import { parseConfig } from '../../config/index.js';
import type { Logger } from '../../logger.js';
import { buildBundle } from '../../rego/index.js';
import { startPgwarden, type Pgwarden } from '../app.js';
import { startEmbeddedPostgres, type EmbeddedServer } from '../embedded-postgres.js';
import { DEMO_AUDIENCE, startDemoIdp, type DemoIdp } from './idp.js';
import { seedDemo } from './seed.js';

/** Options of the demo. */
export interface DemoOptions {
  stateDir: string;
  gatewayPort: number;
  httpPort: number;
  /** Port of the embedded PostgreSQL; a free one by default, then kept in the state. */
  postgresPort?: number;
  /** Audit durability; `strict` unless a benchmark asks for `batched`. */
  auditDurability?: 'strict' | 'batched';
  logger: Logger;
}

/** The running demo: what `demo.json` describes, and how to stop it. */
export interface RunningDemo {
  info: DemoInfo;
  pgwarden: Pgwarden;
  /** The embedded server and its superuser, for benchmarks and tests that set up data. */
  postgres: EmbeddedServer;
  stop(): Promise<void>;
}

/** The contents of `<state-dir>/demo.json`, for scripts driving the demo. */
export interface DemoInfo {
  gateway: { host: string; port: number; database: string; ca_file: string };
  http: string;
  audit_dir: string;
  audit_jwks_file: string;
  /** The second copy of the audit checkpoints (`verify --checkpoints`). */
  audit_checkpoints_file: string;
  issuer: string;
  identities: Record<string, { token_file: string; subject: string; groups: string[] }>;
  bundle: { file: string; revision: string; hash: string };
  /** The embedded PostgreSQL's data folder (outside the state folder when run as root). */
  postgres_data_dir: string;
}

const IDENTITIES: Record<
  string,
  { subject: string; groups: string[]; claims: Record<string, unknown> }
> = {
  etl: {
    subject: 'repo:acme/payments:ref:refs/heads/main',
    groups: ['etl'],
    claims: { repository: 'acme/payments', ref: 'refs/heads/main', workflow: 'nightly-etl' },
  },
  analyst: { subject: 'analyst@acme.example', groups: ['analyst'], claims: {} },
  dba: { subject: 'dba@acme.example', groups: ['dba'], claims: {} },
  approver: { subject: 'approver@acme.example', groups: ['approvers'], claims: {} },
};

const PACKAGE_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

/** Starts the demo; resolves once every part listens and `demo.json` is written. */
export async function startDemo(options: DemoOptions): Promise<RunningDemo> {
  const state = path.resolve(options.stateDir);
  await mkdir(state, { recursive: true });
  const dirs = { secrets: path.join(state, 'secrets'), tokens: path.join(state, 'tokens') };
  await mkdir(dirs.secrets, { recursive: true, mode: 0o700 });
  await mkdir(dirs.tokens, { recursive: true, mode: 0o700 });
  await mkdir(path.join(state, 'checkpoints'), { recursive: true });
  const { secrets, fresh } = await loadSecrets(path.join(dirs.secrets, 'secrets.json'));
  // New secrets mean a new state folder: a data folder left from an earlier one would hold
  // another password.
  if (fresh) await rm(postgresDataDir(state), { recursive: true, force: true });

  const postgres = await startEmbeddedPostgres({
    dataDir: postgresDataDir(state),
    port: options.postgresPort ?? secrets.postgresPort,
    password: secrets.postgresPassword,
    settings: { fsync: 'on' },
  });
  const cleanups: Array<() => Promise<void>> = [() => postgres.stop()];
  try {
    await seedDemo(
      {
        host: postgres.host,
        port: postgres.port,
        user: postgres.user,
        password: postgres.password,
      },
      secrets.gatewayPassword,
    );
    const idp = await startDemoIdp(path.join(dirs.secrets, 'idp-key.json'), 0);
    cleanups.unshift(() => idp.close());

    const tls = await ensureCertificate(path.join(state, 'tls'));
    const bundleFile = path.join(state, 'bundle.tar.gz');
    await writeFile(
      bundleFile,
      await buildBundle({
        paths: [path.join(PACKAGE_ROOT, 'rego')],
        entrypoints: ['pgwarden/decision'],
        revision: `demo-${new Date().toISOString()}`,
      }),
    );
    const passwordFile = path.join(dirs.secrets, 'upstream-password');
    await writeFile(passwordFile, secrets.gatewayPassword, { mode: 0o600 });
    const hmacFile = path.join(dirs.secrets, 'masking-hmac-key');
    await writeFile(hmacFile, secrets.hmacKey, { mode: 0o600 });

    const configText = demoConfig({
      state,
      options,
      postgres,
      idp,
      tls,
      bundleFile,
      passwordFile,
      hmacFile,
    });
    const configFile = path.join(state, 'pgwarden.yaml');
    await writeFile(configFile, configText);
    const pgwarden = await startPgwarden(parseConfig(configText, configFile), options.logger);
    cleanups.unshift(() => pgwarden.close());

    const info = await writeDemoInfo(
      state,
      dirs.tokens,
      idp,
      tls.cert,
      pgwarden,
      options,
      bundleFile,
    );
    return { info, pgwarden, postgres, stop: () => runAll(cleanups) };
  } catch (err) {
    await runAll(cleanups);
    throw err;
  }
}

function demoConfig(args: {
  state: string;
  options: DemoOptions;
  postgres: EmbeddedServer;
  idp: DemoIdp;
  tls: { cert: string; key: string };
  bundleFile: string;
  passwordFile: string;
  hmacFile: string;
}): string {
  const { state, options, postgres, idp, tls } = args;
  return stringify({
    state_dir: state,
    instance_id: 'demo',
    listen: {
      host: '127.0.0.1',
      port: options.gatewayPort,
      tls: { cert_file: tls.cert, key_file: tls.key },
      allow_plaintext_loopback: true,
    },
    upstream: {
      host: postgres.host,
      port: postgres.port,
      user: 'pgwarden_gateway',
      password_file: args.passwordFile,
      databases: { payments: 'payments' },
      tls: { mode: 'disable' },
    },
    identity: {
      issuers: [{ issuer: idp.issuer, audiences: [DEMO_AUDIENCE], discovery: true }],
    },
    policy: { bundle: { file: args.bundleFile } },
    masking: { hmac_key_file: args.hmacFile },
    audit: {
      dir: path.join(state, 'audit'),
      durability: options.auditDurability ?? 'strict',
      // A second copy of every checkpoint, as a deployment keeps on other storage: with it,
      // `audit verify --checkpoints` detects a trail whose newest records were cut.
      checkpoint_sink: path.join(state, 'checkpoints', 'checkpoints.jsonl'),
    },
    approvals: { path: path.join(state, 'approvals.json') },
    http: { host: '127.0.0.1', port: options.httpPort, admin_groups: ['dba'] },
    logging: { level: 'info' },
  });
}

async function writeDemoInfo(
  state: string,
  tokensDir: string,
  idp: DemoIdp,
  caFile: string,
  pgwarden: Pgwarden,
  options: DemoOptions,
  bundleFile: string,
): Promise<DemoInfo> {
  const identities: DemoInfo['identities'] = {};
  for (const [name, who] of Object.entries(IDENTITIES)) {
    const tokenFile = path.join(tokensDir, `${name}.jwt`);
    await writeFile(tokenFile, await idp.token(who.subject, who.groups, 8, who.claims), {
      mode: 0o600,
    });
    identities[name] = { token_file: tokenFile, subject: who.subject, groups: who.groups };
  }
  const stamp = pgwarden.engine.active?.stamp;
  const info: DemoInfo = {
    gateway: {
      host: pgwarden.gateway.address.host,
      port: pgwarden.gateway.address.port,
      database: 'payments',
      ca_file: caFile,
    },
    http: `http://127.0.0.1:${httpPort(pgwarden) ?? options.httpPort}`,
    audit_dir: path.join(state, 'audit'),
    audit_jwks_file: path.join(state, 'audit', 'jwks.json'),
    audit_checkpoints_file: path.join(state, 'checkpoints', 'checkpoints.jsonl'),
    issuer: idp.issuer,
    identities,
    bundle: { file: bundleFile, revision: stamp?.revision ?? '', hash: stamp?.hash ?? '' },
    postgres_data_dir: postgresDataDir(state),
  };
  await writeFile(path.join(state, 'demo.json'), JSON.stringify(info, null, 2) + '\n');
  return info;
}

/**
 * Where the demo's PostgreSQL keeps its data: `<state>/postgres`. As root the server runs as the
 * `postgres` user, which cannot reach a state folder inside a folder closed to others (such as
 * /root, or a 0700 temporary folder); its data then lives in the system's temporary folder,
 * under a name derived from the state folder so that a second start finds it again, and
 * `demo.json` names it (`postgres_data_dir`).
 */
export function postgresDataDir(state: string): string {
  if (process.getuid?.() !== 0 || reachableByOthers(state)) return path.join(state, 'postgres');
  const key = createHash('sha256').update(state).digest('hex').slice(0, 12);
  return path.join(os.tmpdir(), `pgwarden-demo-${key}`);
}

/** True when every folder from the root down to `dir` may be entered by other users. */
function reachableByOthers(dir: string): boolean {
  for (let at = dir; ; at = path.dirname(at)) {
    try {
      if ((statSync(at).mode & 0o001) === 0) return false;
    } catch {
      return false;
    }
    if (path.dirname(at) === at) return true;
  }
}

interface DemoSecrets {
  postgresPassword: string;
  gatewayPassword: string;
  hmacKey: string;
  postgresPort?: number;
}

async function loadSecrets(file: string): Promise<{ secrets: DemoSecrets; fresh: boolean }> {
  if (existsSync(file)) {
    return { secrets: JSON.parse(await readFile(file, 'utf8')) as DemoSecrets, fresh: false };
  }
  const secrets: DemoSecrets = {
    postgresPassword: randomBytes(18).toString('base64url'),
    gatewayPassword: randomBytes(18).toString('base64url'),
    hmacKey: randomBytes(32).toString('base64url'),
  };
  await writeFile(file, JSON.stringify(secrets), { mode: 0o600 });
  return { secrets, fresh: true };
}

/** A self-signed certificate for 127.0.0.1 and localhost, made once and kept. */
async function ensureCertificate(dir: string): Promise<{ cert: string; key: string }> {
  const files = { cert: path.join(dir, 'gateway.crt'), key: path.join(dir, 'gateway.key') };
  if (existsSync(files.cert) && existsSync(files.key)) return files;
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const pems = await selfsigned.generate([{ name: 'commonName', value: 'pgwarden demo' }], {
    notAfterDate: new Date(Date.now() + 825 * 86_400_000),
    keyType: 'ec',
    algorithm: 'sha256',
    extensions: [
      { name: 'basicConstraints', cA: true },
      {
        name: 'subjectAltName',
        altNames: [
          { type: 2, value: 'localhost' },
          { type: 7, ip: '127.0.0.1' },
        ],
      },
    ],
  });
  await writeFile(files.cert, pems.cert);
  await writeFile(files.key, pems.private, { mode: 0o600 });
  return files;
}

function httpPort(pgwarden: Pgwarden): number | undefined {
  const address = pgwarden.http?.address();
  return typeof address === 'object' && address ? address.port : undefined;
}

async function runAll(steps: Array<() => Promise<void>>): Promise<void> {
  for (const step of steps) await step().catch(() => {});
}
