/**
 * `pgwarden eval -b BUNDLE [-e ENTRYPOINT] -i INPUT.json [-d DATA.json]...`: evaluates one
 * entrypoint of a bundle on an input, through the same loader and SDK the gateway uses, and
 * prints the result set the way `opa eval --format json` prints it (`{}` when undefined).
 * `--format decision` prints the decision as the gateway reads it instead, with its bundle stamp.
 */
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { parse as parseYaml } from 'yaml';
import { PgwardenError } from '../../errors.js';
import {
  SIGNATURE_ALGORITHMS,
  createBundleVerifier,
  loadBundleFiles,
  normalizeEntrypoint,
  readDecision,
  unpackBundle,
  type SignatureAlgorithm,
} from '../../policy/index.js';
import { hostBuiltins } from '../../rego/index.js';

interface EvalOptions {
  bundle: string;
  entrypoint: string;
  input: string;
  data: string[];
  format: string;
  verificationKey?: string;
  verificationAlg: string;
  keyId?: string;
  scope?: string;
}

const FORMATS = ['json', 'raw', 'decision'];

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** Adds `pgwarden eval`. */
export function registerEval(program: Command): void {
  program
    .command('eval')
    .description('evaluate a bundle entrypoint on an input, like `opa eval -b`')
    .requiredOption('-b, --bundle <file>', 'bundle file (.tar.gz)')
    .option(
      '-e, --entrypoint <path>',
      'Wasm entrypoint (pgwarden/decision or data.pgwarden.decision)',
    )
    .requiredOption('-i, --input <file>', 'input document (JSON or YAML; - reads stdin)')
    .option(
      '-d, --data <file>',
      'data document merged into the bundle data (repeatable)',
      collect,
      [],
    )
    .option('-f, --format <format>', `output format: ${FORMATS.join(', ')}`, 'json')
    .option(
      '--verification-key <file>',
      'verify the bundle signature with this key (PEM or secret)',
    )
    .option('--verification-alg <alg>', 'signature algorithm', 'RS256')
    .option('--key-id <id>', 'expected signing key id')
    .option('--scope <scope>', 'expected signature scope')
    .action(async (options: EvalOptions, command: Command) => {
      if (!FORMATS.includes(options.format)) {
        throw new PgwardenError('ERR_CONFIG_INVALID', `unknown --format ${options.format}`);
      }
      const entrypoint = normalizeEntrypoint(options.entrypoint ?? 'pgwarden/decision');
      const input = await readDocument(options.input, 'input');
      const extraData = [];
      for (const file of options.data) {
        extraData.push({ label: file, value: await readDocument(file, 'data') });
      }

      const files = await unpackBundle(await readBytes(options.bundle, 'bundle'));
      const signature = await verifier(options)?.(files);
      const bundle = await loadBundleFiles(files, {
        source: options.bundle,
        entrypoint,
        builtins: hostBuiltins(),
        extraData,
        signature: signature ?? null,
      });
      const resultSet = bundle.evaluate(input);

      const write = (text: string) => {
        const out = command.configureOutput().writeOut;
        if (out) out(text);
        else process.stdout.write(text);
      };
      write(render(options.format, entrypoint, resultSet, bundle.stamp));
    });
}

function verifier(options: EvalOptions) {
  if (options.verificationKey === undefined) return null;
  const alg = options.verificationAlg as SignatureAlgorithm;
  if (!SIGNATURE_ALGORITHMS.includes(alg)) {
    throw new PgwardenError('ERR_CONFIG_INVALID', `unknown --verification-alg ${alg}`);
  }
  return async (files: Parameters<ReturnType<typeof createBundleVerifier>>[0]) =>
    createBundleVerifier({
      required: true,
      alg,
      key: await readBytes(options.verificationKey!, 'verification key'),
      ...(options.keyId !== undefined ? { keyId: options.keyId } : {}),
      ...(options.scope !== undefined ? { scope: options.scope } : {}),
    })(files);
}

function render(
  format: string,
  entrypoint: string,
  resultSet: unknown,
  stamp: { hash: string; revision: string },
): string {
  const results = Array.isArray(resultSet) ? (resultSet as Array<{ result?: unknown }>) : [];
  if (format === 'decision') {
    return `${JSON.stringify({ ...readDecision(resultSet), bundle: stamp }, null, 2)}\n`;
  }
  if (format === 'raw') {
    return results.map((r) => `${JSON.stringify(r.result)}\n`).join('');
  }
  if (results.length === 0) return '{}\n';
  const text = `data.${entrypoint.split('/').join('.')}`;
  const result = results.map((r) => ({
    expressions: [{ value: r.result, text, location: { row: 1, col: 1 } }],
  }));
  return `${JSON.stringify({ result }, null, 2)}\n`;
}

async function readBytes(file: string, what: string): Promise<Buffer> {
  try {
    return file === '-' ? await readStdin() : await readFile(file);
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    throw new PgwardenError('ERR_CONFIG_INVALID', `cannot read ${what} ${file} (${reason})`, {
      cause: err,
    });
  }
}

async function readDocument(file: string, what: string): Promise<unknown> {
  const text = (await readBytes(file, what)).toString('utf8');
  try {
    return /\.ya?ml$/.test(file) ? parseYaml(text) : JSON.parse(text);
  } catch (err) {
    const reason = (err as Error).message.split('\n')[0];
    throw new PgwardenError('ERR_CONFIG_INVALID', `${what} ${file} does not parse: ${reason}`);
  }
}

async function readStdin(): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
