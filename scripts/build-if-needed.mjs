// Builds what a command is about to run when it is missing or older than its sources, saying so in
// one line: `npm start` and `npm run web` (the console), `npm run cli` and `npm run server` (out/node).
import { spawnSync } from 'node:child_process';
import console from 'node:console';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import process from 'node:process';
import { NODE_OUTPUTS, ROOT, buildNode } from './build-node.mjs';

const CONSOLE_OUTPUTS = ['out/main/index.js', 'out/preload/index.cjs', 'out/renderer/index.html'].map((f) => join(ROOT, f));

function newestMtime(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) newest = Math.max(newest, statSync(join(entry.parentPath, entry.name)).mtimeMs);
  }
  return newest;
}

/**
 * Whether any output is missing or older than the newest file under the source folders.
 * @param {string[]} outputs absolute paths
 * @param {string[]} sourceDirs absolute paths
 */
export function stale(outputs, sourceDirs) {
  if (!outputs.every((f) => existsSync(f))) return true;
  const oldestOutput = Math.min(...outputs.map((f) => statSync(f).mtimeMs));
  return sourceDirs.some((d) => newestMtime(d) > oldestOutput);
}

const sources = (...dirs) => dirs.map((d) => join(ROOT, d));

/** The CLI and the servers compiled into out/node (esbuild, about a second). */
export async function ensureNodeBuilt() {
  if (!stale(NODE_OUTPUTS, sources('main', 'preload'))) return;
  console.error('Rewind: compiling the CLI and the servers (out/node is missing or older than the sources)…');
  await buildNode();
}

/** Everything `npm run build` makes: the desktop app, the renderer and out/node. */
export async function ensureConsoleBuilt() {
  if (!stale([...CONSOLE_OUTPUTS, ...NODE_OUTPUTS], sources('main', 'preload', 'renderer'))) return;
  console.error('Rewind: building the console (npm run build: out/ is missing or older than the sources)…');
  const result = spawnSync(process.execPath, [join(ROOT, 'node_modules/electron-vite/bin/electron-vite.js'), 'build'], { cwd: ROOT, stdio: 'inherit' });
  if (result.status !== 0) {
    console.error('Rewind: the build failed; see above.');
    process.exit(result.status ?? 1);
  }
  await buildNode();
}
