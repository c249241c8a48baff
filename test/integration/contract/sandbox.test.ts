import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { openSandbox } from '../../../main/backends/engine-backend.js';
import { tempDir } from '../server/harness.js';
import { backendContract } from './backend-contract.js';

backendContract('sandbox', async () => {
  const dir = tempDir('rewind-contract-');
  const backend = await openSandbox({ path: join(dir, 'sandbox.db'), timeScale: 1, actor: 'contract' });
  return {
    backend,
    cleanup: async () => {
      await backend.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});
