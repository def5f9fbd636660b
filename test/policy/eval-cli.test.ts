import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/index.js';
import { buildBundle } from '../../src/rego/index.js';
import { keyFiles, markerBundle, policyDir, sampleInput, tempDir } from './support.js';

async function run(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(['node', 'pgwarden', 'eval', ...args], {
    writeOut: (text) => (out += text),
    writeErr: (text) => (err += text),
  });
  return { code, out, err };
}

afterEach(() => {
  process.exitCode = undefined;
});

describe('pgwarden eval', () => {
  let dir: string;
  let bundle: string;
  let signed: string;
  let publicKey: string;
  let input: string;

  beforeAll(async () => {
    dir = await tempDir();
    const keys = await keyFiles('rsa');
    publicKey = keys.publicFile;
    bundle = join(dir, 'bundle.tar.gz');
    signed = join(dir, 'signed.tar.gz');
    input = join(dir, 'input.json');
    await writeFile(bundle, await markerBundle({ name: 'r7', masked: ['public.cards.pan'] }));
    await writeFile(signed, await markerBundle({ name: 's1' }, { signingKey: keys.privateFile }));
    await writeFile(input, JSON.stringify(sampleInput()));
  });

  it('prints the result set like opa eval', async () => {
    const { code, out } = await run('-b', bundle, '-i', input);
    expect(code).toBe(0);
    expect(JSON.parse(out)).toEqual({
      result: [
        {
          expressions: [
            {
              value: {
                allow: true,
                reasons: ['r7'],
                mask: { 'public.cards.pan': 'redact' },
                approval: null,
              },
              text: 'data.pgwarden.decision',
              location: { row: 1, col: 1 },
            },
          ],
        },
      ],
    });
  });

  it('merges -d data over the bundle data and accepts data.x.y entrypoints', async () => {
    const extra = join(dir, 'extra.json');
    await writeFile(extra, JSON.stringify({ extra: { note: 'hi' } }));
    const raw = await run('-b', bundle, '-e', 'data.pgwarden.decision', '-i', input, '-d', extra);
    expect(raw.code).toBe(0);
    const value = await run('-b', bundle, '-i', input, '-d', extra, '--format', 'raw');
    expect(JSON.parse(value.out)).toMatchObject({ allow: true });

    const clash = join(dir, 'clash.json');
    await writeFile(clash, JSON.stringify({ marker: { name: 'other' } }));
    const refused = await run('-b', bundle, '-i', input, '-d', clash);
    expect(refused.code).toBe(1);
    expect(refused.err).toMatch(/^pgwarden: .*defined twice.*\(ERR_BUNDLE_INVALID\)\n$/);
  });

  it('prints the checked decision with the bundle stamp', async () => {
    const { code, out } = await run('-b', bundle, '-i', input, '-f', 'decision');
    expect(code).toBe(0);
    expect(JSON.parse(out)).toMatchObject({
      allow: true,
      rowLimit: null,
      bundle: { revision: 'r7', hash: expect.stringMatching(/^[0-9a-f]{64}$/) },
    });
  });

  it('prints {} for an undefined result, and nothing in raw format', async () => {
    const rego = 'package pgwarden\n\nimport rego.v1\n\ndecision := {"allow": true} if input.go\n';
    const file = join(dir, 'undefined.tar.gz');
    const source = await policyDir({ name: 'u' }, rego);
    await writeFile(
      file,
      await buildBundle({ paths: [source], entrypoints: ['pgwarden/decision'] }),
    );
    const undefinedJson = await run('-b', file, '-i', input);
    expect(undefinedJson).toMatchObject({ code: 0, out: '{}\n' });
    expect((await run('-b', file, '-i', input, '-f', 'raw')).out).toBe('');
    const denied = await run('-b', file, '-i', input, '-f', 'decision');
    expect(JSON.parse(denied.out)).toMatchObject({
      allow: false,
      reasons: ['policy returned no decision (undefined)'],
    });
  });

  it('verifies signatures when given a key', async () => {
    const ok = await run('-b', signed, '-i', input, '--verification-key', publicKey);
    expect(ok.code).toBe(0);
    const refused = await run('-b', bundle, '-i', input, '--verification-key', publicKey);
    expect(refused.code).toBe(1);
    expect(refused.err).toMatch(/not signed .*\(ERR_BUNDLE_SIGNATURE\)\n$/);
  });

  it('refuses bad arguments with one line', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['-i', input], /required option '-b, --bundle <file>'/],
      [['-b', bundle], /required option '-i, --input <file>'/],
      [['-b', join(dir, 'nope.tgz'), '-i', input], /cannot read bundle .*ENOENT/],
      [['-b', input, '-i', input], /bundle archive unreadable/],
      [['-b', bundle, '-i', bundle], /input .* does not parse/],
      [['-b', bundle, '-i', input, '-f', 'xml'], /unknown --format xml/],
      [
        ['-b', bundle, '-i', input, '-e', 'pgwarden/nope'],
        /bundle has no entrypoint pgwarden\/nope/,
      ],
    ];
    for (const [args, message] of cases) {
      const { code, err } = await run(...args);
      expect(code, args.join(' ')).toBe(1);
      expect(err.trimEnd().split('\n'), args.join(' ')).toHaveLength(1);
      expect(err, args.join(' ')).toMatch(message);
    }
    const help = await run('--help');
    expect(help.out).toContain('Usage: pgwarden eval');
    expect(await readFile(input, 'utf8')).toContain('"statement"');
  });
});
