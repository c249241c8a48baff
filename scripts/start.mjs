#!/usr/bin/env node
// `npm start`: the desktop app on the local sandbox; where no Electron window can open, browser mode.
// Arguments after `--` go to browser mode (`npm start -- --port 5200`).
import { spawn } from 'node:child_process';
import console from 'node:console';
import { dirname, join } from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';
import { ensureConsoleBuilt } from './build-if-needed.mjs';
import { findElectron } from './electron-binary.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
/** An Electron that dies this soon after launch never opened its window (missing libraries, no GPU, …). */
const EARLY_EXIT_MS = 5000;

let current = null;
// Ctrl+C reaches the child too (same process group) and its exit ends this script; SIGTERM is passed on.
process.on('SIGINT', () => undefined);
process.on('SIGTERM', () => current?.kill('SIGTERM'));

function run(command, args) {
  current = spawn(command, args, { cwd: ROOT, stdio: 'inherit' });
  return current;
}

function browserMode(why) {
  console.log(`Rewind: no desktop window, because ${why}; starting browser mode instead.`);
  const child = run(process.execPath, [join(ROOT, 'out/node/web.mjs'), ...process.argv.slice(2)]);
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
}

await ensureConsoleBuilt();
const electron = findElectron();
if (!electron.binary) {
  browserMode(electron.reason);
} else {
  const started = Date.now();
  const child = run(electron.binary, [ROOT]);
  let fellBack = false;
  child.on('error', (err) => {
    fellBack = true;
    browserMode(`Electron could not be started (${err.message})`);
  });
  child.on('exit', (code, signal) => {
    if (fellBack) return;
    if (code !== 0 && Date.now() - started < EARLY_EXIT_MS) {
      fellBack = true;
      browserMode(`Electron exited at start with ${signal ?? `code ${code}`}`);
      return;
    }
    process.exit(code ?? 0);
  });
}
