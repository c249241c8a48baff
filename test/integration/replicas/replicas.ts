import { randomBytes } from 'node:crypto';
import { type ServedStore, openServedStore } from '../../../main/server/open-store.js';
import { type RunningServer, createServer } from '../../../main/server/server.js';
import { TokenStore } from '../../../main/server/tokens.js';
import type { RoleTokens } from '../server/harness.js';

/** Replicas of the workflow server on one PostgreSQL database, in the test process, each over its own store. */

export interface Replica {
  id: string;
  url: string;
  served: ServedStore;
  server: RunningServer;
  close(): Promise<void>;
}

export interface Replicas {
  replicas: Replica[];
  /** Issued once, through the first replica: every replica reads them from the shared database. */
  tokens: RoleTokens;
  close(): Promise<void>;
}

export async function startReplica(url: string, id: string): Promise<Replica> {
  const served = await openServedStore({ db: url, replicaId: id, timeScale: 0, demo: false, actor: 'test' });
  const server = await createServer({
    backend: served.backend,
    tokens: new TokenStore(served.backend.engine),
    latestSeq: () => served.backend.engine.latestSeq(),
    schemaVersion: served.backend.engine.schemaVersion,
    port: 0,
    log: () => undefined,
    replica: { id, store: served.store, healthy: served.healthy, probe: served.probe },
  });
  return {
    id,
    url: server.url,
    served,
    server,
    async close() {
      await server.close();
      await served.backend.close();
    },
  };
}

/** `n` replicas named `<prefix>-<random>-<i>`: unique, so terminating one test's sessions touches no other test's. */
export async function startReplicas(url: string, n: number, prefix = 'replica'): Promise<Replicas> {
  const tag = `${prefix}-${randomBytes(3).toString('hex')}`;
  const replicas: Replica[] = [];
  for (let i = 0; i < n; i++) replicas.push(await startReplica(url, `${tag}-${i}`));
  const store = new TokenStore(replicas[0]!.served.backend.engine);
  const tokens = {
    admin: (await store.issue({ name: 'admin', role: 'admin', createdBy: 'test' })).token,
    operator: (await store.issue({ name: 'operator', role: 'operator', createdBy: 'test' })).token,
    viewer: (await store.issue({ name: 'viewer', role: 'viewer', createdBy: 'test' })).token,
  };
  return {
    replicas,
    tokens,
    async close() {
      await Promise.all(replicas.map((r) => r.close()));
    },
  };
}
