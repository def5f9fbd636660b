/**
 * Golden files: each `cases/<name>.rego` sits beside `cases/<name>.out`, the exact expected
 * output of compiling and evaluating it. Header comments say what to evaluate:
 *
 *   # entrypoint: pkg/rule        (one line per entrypoint, evaluated in order)
 *   # input: {"user": "alice"}    (JSON; optional)
 *   # data: {"roles": {}}         (JSON; optional)
 *   # v0                          (parse as Rego v0)
 *   # strict                      (strict builtin errors: a failing builtin is an error)
 *   # known-failure: why          (the .out holds OPA's answer, which pgwarden does not give yet)
 *
 * The output is `diagnostics:` and one formatted diagnostic per line when compilation fails,
 * else one line per entrypoint: `pkg/rule = <value>` (Rego value text, sets as `{...}`),
 * `pkg/rule undefined`, or `pkg/rule error: <message>`.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { formatDiagnostic } from '../../../src/rego/diagnostics.js';
import type { TestToolchain } from '../../../src/rego/testing/runner.js';
import { abortMessage, resultValues } from '../../../src/rego/testing/evaluate.js';
import { formatValue } from '../../../src/rego/testing/value.js';

/** What the header of a golden .rego asks for. */
export interface GoldenSpec {
  entrypoints: string[];
  input?: string;
  data?: string;
  v0: boolean;
  strict: boolean;
  knownFailure?: string;
}

/** Reads the header comments. */
export function readSpec(text: string): GoldenSpec {
  const spec: GoldenSpec = { entrypoints: [], v0: false, strict: false };
  for (const line of text.split('\n')) {
    const m = /^#\s*(entrypoint|input|data|v0|strict|known-failure)\b:?\s*(.*)$/.exec(line.trim());
    if (!m) continue;
    const [, key, value = ''] = m;
    if (key === 'entrypoint') spec.entrypoints.push(value.trim());
    else if (key === 'input') spec.input = value.trim();
    else if (key === 'data') spec.data = value.trim();
    else if (key === 'v0') spec.v0 = true;
    else if (key === 'strict') spec.strict = true;
    else spec.knownFailure = value.trim();
  }
  return spec;
}

/** Compiles and evaluates one golden file; returns the output text. */
export async function produceGolden(file: string, tools: TestToolchain): Promise<string> {
  const text = await readFile(file, 'utf8');
  const spec = readSpec(text);
  const name = path.basename(file);
  const compiled = tools.compile([{ file: name, text }], {
    entrypoints: spec.entrypoints,
    v0Compatible: spec.v0,
    strictBuiltinErrors: spec.strict,
  });
  if (!compiled.ok || !compiled.wasm) {
    const diags = compiled.diagnostics.filter((d) => d.severity === 'error');
    return ['diagnostics:', ...diags.map(formatDiagnostic)].join('\n') + '\n';
  }
  const evaluator = await tools.load(compiled.wasm);
  if (spec.data !== undefined) evaluator.setData(spec.data);
  const lines: string[] = [];
  for (const ep of spec.entrypoints) {
    try {
      const [v] = resultValues(evaluator.evaluate(ep, spec.input));
      lines.push(v === undefined ? `${ep} undefined` : `${ep} = ${formatValue(v)}`);
    } catch (err) {
      lines.push(`${ep} error: ${abortMessage(err)}`);
    }
  }
  return lines.join('\n') + '\n';
}
