import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';

/** Browser mode serves the built renderer: build it once when a checkout has none yet. */
export default function globalSetup(): void {
  const root = resolve(import.meta.dirname, '../../..');
  if (existsSync(resolve(root, 'out/renderer/index.html'))) return;
  execFileSync('npx', ['electron-vite', 'build'], { cwd: root, stdio: 'inherit' });
}
