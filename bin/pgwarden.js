#!/usr/bin/env node
// The installed command: runs the compiled CLI (built by `npm run build`, which `npm install` runs).
import { main } from '../dist/cli/index.js';

process.exitCode = await main(process.argv);
