import { homedir } from 'node:os';
import { join } from 'node:path';

/**
 * Rewind's per-user folder (sandbox database, connections file, token blobs). The desktop app
 * pins Electron's `userData` here too, so the desktop app and browser mode share one sandbox.
 */
export function defaultUserDataDir(platform: NodeJS.Platform = process.platform, env: NodeJS.ProcessEnv = process.env): string {
  if (platform === 'darwin') return join(homedir(), 'Library', 'Application Support', 'Rewind');
  if (platform === 'win32') return join(env.APPDATA ?? join(homedir(), 'AppData', 'Roaming'), 'Rewind');
  return join(env.XDG_CONFIG_HOME || join(homedir(), '.config'), 'Rewind');
}

export const SANDBOX_FILE = 'sandbox.db';
