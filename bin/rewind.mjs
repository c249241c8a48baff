#!/usr/bin/env node
// The `rewind` command: the compiled CLI (out/node/cli.mjs, from `npm run build` or `npm run build:node`).
import { runCompiled } from './compiled-entry.mjs';

await runCompiled('cli');
