/**
 * Golden files for the frontend: each `golden/<name>.rego` (first line
 * `# entrypoints: a/p, a/q`) is planned and its IR (printed by planner-print) or its
 * diagnostics are compared with `golden/<name>.ir`. Run with UPDATE_GOLDEN=1 to rewrite the
 * expected files after a deliberate change, then review the diff.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { formatDiagnostic } from '../../../src/rego/diagnostics.js';
import { parseModule } from '../../../src/rego/parser.js';
import { planPolicy } from '../../../src/rego/planner.js';
import { printPolicy } from '../../../src/rego/planner-print.js';

const dir = join(fileURLToPath(new URL('.', import.meta.url)), 'golden');

function render(file: string, text: string): string {
  const eps =
    /^# entrypoints: (.*)$/m
      .exec(text)?.[1]
      ?.split(',')
      .map((s) => s.trim()) ?? [];
  const parsed = parseModule(text, file);
  if (!parsed.module) return parsed.diagnostics.map(formatDiagnostic).join('\n') + '\n';
  const planned = planPolicy([parsed.module], { entrypoints: eps });
  if (!planned.policy) return planned.diagnostics.map(formatDiagnostic).join('\n') + '\n';
  return printPolicy(planned.policy);
}

describe('frontend golden files', () => {
  for (const name of readdirSync(dir).filter((f) => f.endsWith('.rego'))) {
    it(name, () => {
      const text = readFileSync(join(dir, name), 'utf8');
      const actual = render(name, text);
      const expectedPath = join(dir, name.replace(/\.rego$/, '.ir'));
      if (process.env.UPDATE_GOLDEN === '1' || !existsSync(expectedPath)) {
        writeFileSync(expectedPath, actual);
      }
      expect(actual).toBe(readFileSync(expectedPath, 'utf8'));
    });
  }
});
