#!/usr/bin/env node
// `npm run cli|server|web -- …`: the compiled entry (out/node/<name>.mjs) in this process, rebuilt
// first when the sources moved on. The installed bins (bin/) skip that check: they start faster.
import console from 'node:console';
import { join } from 'node:path';
import process from 'node:process';
import { pathToFileURL } from 'node:url';
import { NODE_ENTRIES, NODE_OUTDIR } from './build-node.mjs';
import { ensureConsoleBuilt, ensureNodeBuilt } from './build-if-needed.mjs';

const name = process.argv[2];
if (!name || !Object.hasOwn(NODE_ENTRIES, name)) {
  console.error(`usage: node scripts/run-node.mjs (${Object.keys(NODE_ENTRIES).join('|')}) [arguments]`);
  process.exit(2);
}
// Browser mode serves the built renderer too; the CLI and the server need out/node only.
if (name === 'web') await ensureConsoleBuilt();
else await ensureNodeBuilt();
// The entry reads its arguments from process.argv.slice(2), as when node runs it directly.
process.argv.splice(2, 1);
await import(pathToFileURL(join(NODE_OUTDIR, `${name}.mjs`)).href);
