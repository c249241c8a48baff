import { EngineBackend } from '../../../main/backends/engine-backend.js';
import { Engine } from '../../../main/engine/engine.js';
import { stores } from '../../support/stores.js';
import { backendContract } from './backend-contract.js';

// The engine backend in-process (the sandbox, and what the server serves) over every store.
for (const factory of stores) {
  backendContract(`engine backend on ${factory.kind}`, async () => {
    const engine = await Engine.open({ store: await factory.open('contract'), timeScale: 1 });
    const backend = new EngineBackend(engine, 'contract');
    return {
      backend,
      cleanup: async () => {
        await backend.close();
        await factory.dispose();
      },
    };
  });
}
