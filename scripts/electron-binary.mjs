import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import process from 'node:process';

/**
 * The Electron binary, found the way `require('electron')` finds it but without its fallback of
 * downloading one (which throws, or hangs, where there is no network); or why no window can open.
 * @returns {{ binary: string } | { binary: null, reason: string }}
 */
export function findElectron() {
  let pkgDir;
  try {
    pkgDir = dirname(createRequire(import.meta.url).resolve('electron/package.json'));
  } catch {
    return { binary: null, reason: 'the electron package is not installed' };
  }
  const pathFile = join(pkgDir, 'path.txt');
  const relative = existsSync(pathFile) ? readFileSync(pathFile, 'utf8').trim() : null;
  const override = process.env.ELECTRON_OVERRIDE_DIST_PATH;
  const binary = override ? join(override, relative ?? 'electron') : relative ? join(pkgDir, 'dist', relative) : null;
  if (!binary || !existsSync(binary)) {
    return { binary: null, reason: 'no Electron binary is installed (node_modules/electron has no dist/; `node node_modules/electron/install.js` fetches it where the network allows)' };
  }
  if (process.platform === 'linux' && !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY) {
    return { binary: null, reason: 'there is no display (DISPLAY and WAYLAND_DISPLAY are unset)' };
  }
  return { binary };
}
