import { openRemote } from '../../../main/backends/remote/index.js';
import { startServer } from '../server/harness.js';
import { stores } from '../../support/stores.js';
import { backendContract } from './backend-contract.js';

// The remote backend against a real server, the server's engine on every store.
for (const factory of stores) {
  backendContract(`remote (workflow server on 127.0.0.1, ${factory.kind})`, async () => {
    const server = await startServer({ timeScale: 1, store: await factory.open('remote-contract') });
    const backend = await openRemote({ url: server.url, token: server.tokens.admin });
    return {
      backend,
      cleanup: async () => {
        await backend.close();
        await server.close();
        await factory.dispose();
      },
    };
  });
}
