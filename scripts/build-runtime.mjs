#!/usr/bin/env node
// Builds the Rego policy runtime (AssemblyScript, src/rego/runtime/assembly) into
// dist/rego-runtime.wasm, once, at build time. The code generator (src/rego/emit.ts) appends
// each policy's functions to that binary (src/rego/wasm-link.ts).
//
// Flags, and why:
//   --runtime stub      no garbage collector: the runtime manages its own bump heap
//   --importMemory      OPA's ABI imports the memory as env.memory
//   --initialMemory 2   the SDK creates a 5-page memory by default; the import must fit it
//   --use abort=...     assertion failures go to OPA's opa_abort import, not AssemblyScript's
//   -O3 --noAssert      speed: the runtime sits on the evaluation hot path
import { execFileSync } from 'node:child_process';
import { mkdirSync, renameSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const entry = join(root, 'src/rego/runtime/assembly/index.ts');
const out = join(root, 'dist/rego-runtime.wasm');
const asc = join(root, 'node_modules/.bin/asc');

mkdirSync(dirname(out), { recursive: true });
// Written under a temporary name and renamed, so a test worker that rebuilds the runtime at the
// same time as another never reads a half-written file.
const tmp = `${out}.${process.pid}.tmp`;
execFileSync(
  asc,
  [
    entry,
    '--outFile',
    tmp,
    '--runtime',
    'stub',
    '--importMemory',
    '--initialMemory',
    '2',
    '--use',
    'abort=src/rego/runtime/assembly/abort/runtimeAbort',
    '-O3',
    '--noAssert',
    '--disableWarning',
    '201',
  ],
  { cwd: root, stdio: 'inherit' },
);
renameSync(tmp, out);
process.stdout.write(`built ${out} (${statSync(out).size} bytes)\n`);
