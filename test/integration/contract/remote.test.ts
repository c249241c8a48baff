import { openRemote } from '../../../main/backends/remote/index.js';
import { startServer } from '../server/harness.js';
import { backendContract } from './backend-contract.js';

backendContract('remote (workflow server on 127.0.0.1)', async () => {
  const server = await startServer({ timeScale: 1 });
  const backend = await openRemote({ url: server.url, token: server.tokens.admin });
  return {
    backend,
    cleanup: async () => {
      await backend.close();
      await server.close();
    },
  };
});
