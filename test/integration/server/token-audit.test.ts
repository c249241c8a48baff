import { afterEach, describe, expect, it } from 'vitest';
import { type TestServer, startServer } from './harness.js';

/* Token changes are administrative acts: they belong in the same hash-chained audit log. */

describe('token audit', () => {
  let s: TestServer | undefined;
  afterEach(async () => {
    await s?.close();
    s = undefined;
  });

  it('records issuing and revoking a token, by whom, without the token itself', async () => {
    s = await startServer();
    const headers = { authorization: `Bearer ${s.tokens.admin}`, 'content-type': 'application/json' };
    const issued = await fetch(`${s.url}/api/v1/tokens`, { method: 'POST', headers, body: JSON.stringify({ name: 'alice', role: 'operator' }) });
    expect(issued.status).toBe(201);
    const { id, token } = (await issued.json()) as { id: string; token: string };
    const revoked = await fetch(`${s.url}/api/v1/tokens/${id}`, { method: 'DELETE', headers });
    expect(revoked.status).toBe(200);

    const events = (await s.backend.engine.events.list(0, 100)).filter((e) => e.type.startsWith('token_'));
    expect(events.map((e) => [e.type, e.actor, e.payload.name, e.payload.role])).toEqual([
      ['token_issued', 'test', 'admin', 'admin'],
      ['token_issued', 'test', 'operator', 'operator'],
      ['token_issued', 'test', 'viewer', 'viewer'],
      ['token_issued', 'admin', 'alice', 'operator'],
      ['token_revoked', 'admin', 'alice', 'operator'],
    ]);
    expect(JSON.stringify(events)).not.toContain(token);
    expect((await s.backend.engine.verifyChain()).ok).toBe(true);

    // Revoking again changes nothing and records nothing.
    await fetch(`${s.url}/api/v1/tokens/${id}`, { method: 'DELETE', headers });
    expect((await s.backend.engine.events.list(0, 100)).filter((e) => e.type === 'token_revoked')).toHaveLength(1);
  });
});
