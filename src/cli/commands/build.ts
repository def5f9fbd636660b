/**
 * `pgwarden build PATH... -o bundle.tar.gz -e ENTRYPOINT... [--revision R] [--signing-key FILE]
 * [--v0-compatible]`: compiles the Rego under PATH into an OPA bundle with `/policy.wasm`.
 * Compile errors are printed one per line as `file:line:col: code: message`, and the command
 * exits with 1.
 */
import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { formatDiagnostic } from '../../rego/diagnostics.js';
import { buildBundle, RegoCompileError } from '../../rego/index.js';

interface BuildOptions {
  output: string;
  entrypoint: string[];
  revision?: string;
  signingKey?: string;
  signingAlg?: string;
  keyId?: string;
  v0Compatible?: boolean;
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** Adds `pgwarden build`. */
export function registerBuild(program: Command): void {
  program
    .command('build')
    .description('compile Rego into an OPA bundle (policy.wasm, data.json, .manifest)')
    .argument('<paths...>', '.rego files, data.json/data.yaml files, or directories of them')
    .requiredOption('-o, --output <file>', 'where to write the bundle (.tar.gz)')
    .requiredOption('-e, --entrypoint <path>', 'entrypoint such as pgwarden/decision', collect)
    .option('--revision <revision>', 'revision recorded in the manifest')
    .option('--signing-key <file>', 'sign the bundle with this PEM private key or HMAC secret')
    .option('--signing-alg <alg>', 'JWS algorithm (default from the key: RS256, ES256, HS256)')
    .option('--key-id <id>', 'key id recorded in the signature')
    .option('--v0-compatible', 'accept Rego v0 syntax')
    .action(async (paths: string[], options: BuildOptions) => {
      let bundle: Buffer;
      try {
        bundle = await buildBundle({
          paths,
          entrypoints: options.entrypoint,
          ...(options.revision !== undefined ? { revision: options.revision } : {}),
          ...(options.signingKey !== undefined ? { signingKey: options.signingKey } : {}),
          ...(options.signingAlg !== undefined ? { signingAlg: options.signingAlg } : {}),
          ...(options.keyId !== undefined ? { keyId: options.keyId } : {}),
          v0Compatible: options.v0Compatible === true,
        });
      } catch (err) {
        if (!(err instanceof RegoCompileError)) throw err;
        for (const d of err.diagnostics) process.stderr.write(`${formatDiagnostic(d)}\n`);
        process.exitCode = 1;
        return;
      }
      await writeFile(options.output, bundle);
      const hash = createHash('sha256').update(bundle).digest('hex');
      process.stdout.write(`wrote ${options.output} (${bundle.length} bytes, sha256 ${hash})\n`);
    });
}
