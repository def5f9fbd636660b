#!/usr/bin/env node
// `npm run conformance -- DIR...`: runs the compiled conformance runner (built by `npm run build`).
import { main } from '../dist/rego/conformance/main.js';

process.exitCode = await main(process.argv.slice(2));
