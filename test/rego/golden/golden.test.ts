import { readdirSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { TestToolchain } from '../../../src/rego/testing/runner.js';
import { loadToolchain } from '../../../src/rego/testing/toolchain.js';
import { produceGolden, readSpec } from './golden.js';

const DIR = path.join(import.meta.dirname, 'cases');
const UPDATE = process.env.UPDATE_GOLDEN === '1';
const files = readdirSync(DIR)
  .filter((f) => f.endsWith('.rego'))
  .sort();
const specs = new Map(
  await Promise.all(
    files.map(async (f) => [f, readSpec(await readFile(path.join(DIR, f), 'utf8'))] as const),
  ),
);

let tools: TestToolchain;
beforeAll(async () => {
  // Value mode reads results as Rego values, so a set and an array never look alike.
  tools = await loadToolchain('value');
});

describe('golden files', () => {
  for (const file of files) {
    const known = specs.get(file)?.knownFailure;
    // A known failure pins OPA's answer; `it.fails` turns red once pgwarden gets it right, so
    // the marker is removed with the fix.
    const test = known && !UPDATE ? it.fails : it;
    test(`${file}${known ? ` (known failure: ${known})` : ''}`, async () => {
      const out = path.join(DIR, file.replace(/\.rego$/, '.out'));
      const got = await produceGolden(path.join(DIR, file), tools);
      if (UPDATE && !known) await writeFile(out, got);
      expect(got).toBe(await readFile(out, 'utf8'));
    });
  }
});
