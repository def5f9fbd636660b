import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, parseConfig } from '../../src/config/index.js';
import { isPgwardenError } from '../../src/errors.js';

const MINIMAL = `
listen:
  allow_plaintext_loopback: true
upstream:
  user: gateway
`;

/** Parses `text` and returns the problem lines it is refused with. */
function problemsOf(text: string): string[] {
  try {
    parseConfig(text, '/etc/pgwarden/test.yaml');
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return [...(err as ConfigError).problems];
  }
  throw new Error('expected the configuration to be refused');
}

describe('parseConfig defaults', () => {
  it('fills in every default from a minimal file', () => {
    const config = parseConfig(MINIMAL, '/etc/pgwarden/pgwarden.yaml');
    expect(config.listen).toMatchObject({
      host: '127.0.0.1',
      port: 6432,
      allow_plaintext_loopback: true,
      trusted_proxies: [],
      max_message_bytes: 64 * 1024 * 1024,
    });
    expect(config.upstream).toMatchObject({
      host: '127.0.0.1',
      port: 5432,
      user: 'gateway',
      allow_superuser: false,
      roles: {},
      databases: {},
      tls: { mode: 'prefer' },
    });
    expect(config.identity.lockout).toEqual({
      max_attempts: 10,
      duration: 30 * 60_000,
      window: 15 * 60_000,
    });
    expect(config.identity.idle_timeout).toBe(15 * 60_000);
    expect(config.policy.entrypoint).toBe('pgwarden/decision');
    expect(config.policy.signing.required).toBe(false);
    expect(config.masking).toMatchObject({
      backstop: true,
      binary: 'redact',
      unknown_lineage: 'redact',
    });
    expect(config.audit).toMatchObject({
      durability: 'strict',
      retention_days: 365,
      dir: '/etc/pgwarden/.pgwarden/audit',
      signing_key_file: '/etc/pgwarden/.pgwarden/audit-signing-key.json',
    });
    expect(config.approvals).toMatchObject({
      store: 'file',
      timeout: 10 * 60_000,
      path: '/etc/pgwarden/.pgwarden/approvals.json',
      public_url: 'http://127.0.0.1:8181',
    });
    expect(config.http).toMatchObject({ host: '127.0.0.1', port: 8181 });
    expect(config.logging.level).toBe('info');
  });

  it('fills issuer defaults and uses discovery when no key source is given', () => {
    const config = parseConfig(
      `${MINIMAL}
identity:
  issuers:
    - issuer: https://token.actions.example
      audiences: [pgwarden]
    - issuer: https://gitlab.example
      audiences: [pgwarden]
      jwks_file: keys/jwks.json
`,
      '/srv/pgw/pgwarden.yaml',
    );
    const [github, gitlab] = config.identity.issuers;
    expect(github).toMatchObject({
      discovery: true,
      algorithms: ['RS256', 'PS256', 'ES256', 'EdDSA'],
      clock_skew: 60_000,
      subject: '{sub}',
      groups: { claim: 'groups', templates: [] },
    });
    expect(gitlab).toMatchObject({ discovery: false, jwks_file: '/srv/pgw/keys/jwks.json' });
  });

  it('normalises database entries and keeps explicit values', () => {
    const config = parseConfig(
      `${MINIMAL}
  databases:
    payments: payments_prod
    reporting: { database: reports, cardholder: false }
`,
      'inline',
      { baseDir: '/x' },
    );
    expect(config.upstream.databases).toEqual({
      payments: { database: 'payments_prod', cardholder: true },
      reporting: { database: 'reports', cardholder: false },
    });
  });
});

describe('parseConfig problems', () => {
  it('names the path of a wrong type', () => {
    const problems = problemsOf(`${MINIMAL}  port: five\n`);
    expect(problems).toEqual(['upstream.port: expected a number, got a string']);
  });

  it('lists every problem at once, one per line, by path', () => {
    const problems = problemsOf(`
listen:
  port: 70000
  tls: { cert_file: a.pem }
  colour: blue
upstream:
  port: "5432"
  password_env: PW
  password_file: pw.txt
identity:
  issuers:
    - issuer: https://a.example
      audiences: []
      algorithms: [none]
      clock_skew: 10 minutes
policy:
  bundle: { file: a.tar.gz, url: https://b.example/b.tar.gz }
audit:
  durability: sometimes
`);
    expect(problems).toEqual(
      expect.arrayContaining([
        'listen.port: must be at most 65535',
        'listen.tls.key_file: required',
        'listen.colour: unknown option',
        'upstream.port: expected a number, got a string',
        'upstream.user: required',
        'identity.issuers[0].audiences: must have at least 1 entries',
        'identity.issuers[0].algorithms[0]: the "none" algorithm is never accepted',
        'identity.issuers[0].clock_skew: expected a duration such as 30s or 10m, got "10 minutes"',
        'policy.bundle: give exactly one of file, dir and url',
        'audit.durability: expected one of "strict", "batched"',
      ]),
    );
    expect(problems.length).toBeGreaterThanOrEqual(10);
  });

  it('reports checks across options once the shapes are right', () => {
    expect(
      problemsOf(`
upstream: { user: g, password_env: A, password_file: b }
identity:
  issuers:
    - { issuer: i, audiences: [a], algorithms: [HS256] }
    - { issuer: i, audiences: [a], jwks_uri: https://x.example/j, jwks_file: j.json }
`),
    ).toEqual([
      'upstream.password_file: give password_env or password_file, not both',
      'identity.issuers[0].algorithms: HS256 needs hs256_secret_env or hs256_secret_file for ' +
        'this issuer',
      'identity.issuers[1].jwks_uri: give only one of discovery, jwks_uri and jwks_file',
      'identity.issuers[1].issuer: issuer "i" is listed twice',
      'listen.tls: required (cert_file and key_file) unless allow_plaintext_loopback is true',
    ]);
  });

  it('needs TLS for a listener on a non-loopback address', () => {
    const file = (host: string) =>
      `upstream: { user: g }\nlisten: { host: '${host}', allow_plaintext_loopback: true }\n`;
    expect(problemsOf(file('0.0.0.0'))).toEqual([
      'listen.host: 0.0.0.0 is not a loopback address, so listen.tls is required',
    ]);
    for (const loopback of ['127.0.0.1', '::1', 'localhost']) {
      expect(parseConfig(file(loopback), '/etc/pgwarden/t.yaml').listen.host).toBe(loopback);
    }
  });

  it('checks URL schemes and bundle, store and sink shapes', () => {
    const problems = problemsOf(`${MINIMAL}
policy:
  bundle: { url: ftp://bundles.example/b.tar.gz, poll: 1m, poll_max: 10s }
  signing: { required: true }
approvals: { store: postgres, webhook_url: not a url }
audit:
  sink: postgres
  forward: [{ url: gopher://siem.example }]
`);
    expect(problems).toEqual([
      'policy.bundle.url: expected an http(s) URL',
      'policy.bundle.poll_max: must be at least poll',
      'policy.signing.key_file: required when signing.required is true',
      'audit.forward[0].url: expected an https://, http://, syslog:// or syslog+tls:// URL',
      'audit.dsn_env: the postgres store needs exactly one of dsn_env and dsn_file',
      'approvals.webhook_url: expected an http(s) URL',
      'approvals.dsn_env: the postgres store needs exactly one of dsn_env and dsn_file',
    ]);
  });

  it('reports YAML syntax errors with line and column', () => {
    const problems = problemsOf('upstream:\n  user: a\n  user: b\nlisten: [\n');
    expect(problems.length).toBeGreaterThanOrEqual(1);
    expect(problems[0]).toMatch(/^line 3, column 3: /);
  });

  it('lists the required options of an empty file', () => {
    // Checks across sections wait until every section has the right shape.
    expect(problemsOf('')).toEqual(['upstream: required']);
  });

  it('never echoes a value given where a name was expected', () => {
    const problems = problemsOf(`${MINIMAL}  password_env: "hunter2-secret value"\n`);
    expect(problems).toEqual([
      'upstream.password_env: expected the name of an environment variable',
    ]);
    expect(problems.join('\n')).not.toContain('hunter2');
  });

  it('is a PgwardenError with ERR_CONFIG_INVALID whose message holds every line', () => {
    try {
      parseConfig('upstream: { port: x }', 'bad.yaml');
      expect.unreachable();
    } catch (err) {
      expect(isPgwardenError(err, 'ERR_CONFIG_INVALID')).toBe(true);
      expect((err as Error).message).toContain('upstream.port: expected a number');
      expect((err as Error).message).toContain('upstream.user: required');
    }
  });
});

describe('loadConfig', () => {
  it('resolves relative paths against the file and reports a missing file', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'pgw-cfg-'));
    const file = path.join(dir, 'pgwarden.yaml');
    writeFileSync(file, `${MINIMAL}policy:\n  bundle: { dir: ../rego }\n`);
    const config = loadConfig(file);
    expect(config.policy.bundle?.dir).toBe(path.resolve(dir, '../rego'));
    expect(config.state_dir).toBe(path.join(dir, '.pgwarden'));
    expect(() => loadConfig(path.join(dir, 'missing.yaml'))).toThrow(
      /cannot read the configuration file \(no such file\)/,
    );
  });

  it('accepts the shipped example', () => {
    const example = path.resolve(import.meta.dirname, '../../pgwarden.example.yaml');
    const config = loadConfig(example);
    expect(config.identity.issuers.length).toBeGreaterThan(0);
    expect(config.upstream.password_env ?? config.upstream.password_file).toBeDefined();
  });
});

describe('docs/configuration.md', () => {
  it('documents every option the schema knows', () => {
    const root = path.resolve(import.meta.dirname, '../..');
    const doc = readFileSync(path.join(root, 'docs/configuration.md'), 'utf8');
    const config = loadConfig(path.join(root, 'pgwarden.example.yaml'));
    // Mappings whose keys are the user's own names, not options.
    const userKeys = new Set(['databases', 'roles', 'required_claims', 'required_attributes']);
    const missing: string[] = [];
    const walk = (value: unknown, at: string[]): void => {
      if (value === null || typeof value !== 'object') return;
      const entries = Array.isArray(value)
        ? value.slice(0, 1).map((v) => ['', v])
        : Object.entries(value);
      for (const [key, child] of entries) {
        if (key !== '') {
          const pattern = `\`([\\w.]*\\.)?${key}(\\[\\])?(\\.[\\w.]+)?\``;
          const documented = new RegExp(pattern).test(doc);
          if (!documented) missing.push([...at, key].join('.'));
        }
        if (!userKeys.has(String(key))) walk(child, key === '' ? at : [...at, String(key)]);
      }
    };
    walk(config, []);
    expect(missing).toEqual([]);
  });
});
