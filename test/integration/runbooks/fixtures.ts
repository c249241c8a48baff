import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';
import { type EngineBackend, openSandbox } from '../../../main/backends/engine-backend.js';

/* A fresh demo sandbox per test, in a temporary folder removed afterwards. */

const opened: Array<{ dir: string; sandbox: EngineBackend }> = [];

afterEach(async () => {
  for (const { dir, sandbox } of opened.splice(0)) {
    await sandbox.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

export async function demoSandbox(): Promise<EngineBackend> {
  const dir = mkdtempSync(join(tmpdir(), 'rewind-runbooks-'));
  const sandbox = await openSandbox({ path: join(dir, 'sandbox.db'), demo: true, timeScale: 0, actor: 'test-operator' });
  opened.push({ dir, sandbox });
  return sandbox;
}

export const samplesDir = join(import.meta.dirname, '../../../assets/runbooks');
