import { mkdtempSync, renameSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  assertSecrets,
  checkSecrets,
  parseConfig,
  secretSource,
} from '../../src/config/index.js';
import { isPgwardenError } from '../../src/errors.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'pgw-secrets-'));

describe('secretSource', () => {
  it('reads an environment variable at each call', () => {
    const env: NodeJS.ProcessEnv = { PGW_PW: 'first' };
    const read = secretSource({ name: 'upstream.password', env: 'PGW_PW' }, env);
    expect(read()).toBe('first');
    env.PGW_PW = 'second';
    expect(read()).toBe('second');
  });

  it('names the variable, never a value, when it is missing', () => {
    const read = secretSource({ name: 'upstream.password', env: 'PGW_MISSING' }, {});
    expect(read).toThrow('upstream.password: environment variable PGW_MISSING is not set or empty');
    try {
      read();
    } catch (err) {
      expect(isPgwardenError(err, 'ERR_CONFIG_SECRET')).toBe(true);
    }
  });

  it('re-reads a file when it changes, as a secret manager rotates it', () => {
    const file = path.join(dir, 'password');
    writeFileSync(file, 'old-password\n');
    const read = secretSource({ name: 'upstream.password', file });
    expect(read()).toBe('old-password');
    // Rotation by rename, as Kubernetes and Vault agents do it: a new inode under the same name.
    const next = path.join(dir, 'password.new');
    writeFileSync(next, 'new-password-longer\n');
    renameSync(next, file);
    expect(read()).toBe('new-password-longer');
  });

  it('refuses an empty file and a missing file', () => {
    const empty = path.join(dir, 'empty');
    writeFileSync(empty, '\n');
    expect(secretSource({ name: 'masking.hmac_key', file: empty })).toThrow(
      `masking.hmac_key: ${empty} is empty`,
    );
    expect(secretSource({ name: 'masking.hmac_key', file: path.join(dir, 'nope') })).toThrow(
      /no such file/,
    );
  });

  it('is misuse to give both or neither source', () => {
    expect(() => secretSource({ name: 'x' })).toThrow(TypeError);
    expect(() => secretSource({ name: 'x', env: 'A', file: 'b' })).toThrow(TypeError);
  });
});

describe('checkSecrets', () => {
  const config = parseConfig(
    `
listen: { allow_plaintext_loopback: true }
upstream: { user: gw, password_env: PGW_UPSTREAM }
masking: { hmac_key_file: hmac.key }
policy: { signing: { key_file: bundle.pem } }
`,
    path.join(dir, 'pgwarden.yaml'),
  );

  it('lists every unreadable secret and key file without printing values', () => {
    const problems = checkSecrets(config, {});
    expect(problems).toEqual([
      'upstream.password: environment variable PGW_UPSTREAM is not set or empty',
      `masking.hmac_key: cannot read ${path.join(dir, 'hmac.key')} (no such file)`,
      `policy.signing.key_file: cannot read ${path.join(dir, 'bundle.pem')} (no such file)`,
    ]);
  });

  it('passes once they exist, and the error carries ERR_CONFIG_SECRET otherwise', () => {
    writeFileSync(path.join(dir, 'hmac.key'), 'k3y-material');
    writeFileSync(path.join(dir, 'bundle.pem'), 'pem');
    expect(checkSecrets(config, { PGW_UPSTREAM: 's3cret-value' })).toEqual([]);
    try {
      assertSecrets(config, 'pgwarden.yaml', {});
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      expect(isPgwardenError(err, 'ERR_CONFIG_SECRET')).toBe(true);
      expect((err as Error).message).not.toContain('k3y-material');
    }
  });
});
