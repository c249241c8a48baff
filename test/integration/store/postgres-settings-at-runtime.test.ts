import { afterAll, describe, expect, it } from 'vitest';
import { httpStatusOf } from '../../../preload/contract/errors.js';
import { asAdmin, freshDatabase } from '../../support/postgres.js';
import { TokenStore } from '../../../main/server/tokens.js';
import { api } from '../server/harness.js';
import { type Replica, startReplica } from '../replicas/replicas.js';

/*
 * A database setting that breaks while a replica runs (here: its database dropped under it) is the
 * service unavailable until an operator fixes it — 503 with Retry-After and the hint — never a 500
 * "bug in Rewind".
 */

describe('PostgreSQL settings broken at runtime', () => {
  let replica: Replica | undefined;
  afterAll(async () => {
    await replica?.close().catch(() => undefined);
  });

  it('a dropped database answers 503 STORE_DATABASE_MISSING with Retry-After and a hint', async () => {
    expect(httpStatusOf('STORE_DATABASE_MISSING')).toBe(503);
    expect(httpStatusOf('STORE_AUTH_FAILED')).toBe(503);
    const url = await freshDatabase('dropped');
    replica = await startReplica(url, 'dropped-0');
    const { token } = await new TokenStore(replica.served.backend.engine).issue({ name: 'viewer', role: 'viewer', createdBy: 'test' });
    await asAdmin(url, (c) => c.query(`DROP DATABASE ${c.escapeIdentifier(new URL(url).pathname.slice(1))} WITH (FORCE)`));

    const res = await api(replica.url, token, 'GET', '/api/v1/workflows');
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toMatch(/^\d+$/);
    const error = (res.json as { error: { code: string; hint: string; message: string } }).error;
    expect(error.code).toBe('STORE_DATABASE_MISSING');
    expect(error.hint).toMatch(/fix the user, password or database/);
    expect(`${error.message} ${error.hint}`).not.toMatch(/bug in Rewind/i);
  });
});
