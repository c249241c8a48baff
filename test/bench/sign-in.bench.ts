import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSandbox } from '../../main/backends/engine-backend.js';
import { OidcVerifier } from '../../main/server/auth/oidc-verifier.js';
import { parseRoleMapping } from '../../main/server/auth/role-mapping.js';
import { createServer } from '../../main/server/server.js';
import { TokenStore } from '../../main/server/tokens.js';
import { CLIENT_ID, startTestProvider, testRoles } from '../support/oidc-provider.js';
import { signInAs } from '../support/oidc-sign-in.js';
import { type BenchResult, type BenchSuite, nowMs, percentile, result } from './lib.js';

/*
 * What sign-in costs a request, against the same server without it, in the same run:
 * - an API token's whoami on a server started with --oidc-issuer, against the same token on a server
 *   without sign-in (a JWT is told from a token by its shape, so tokens should pay nothing);
 * - a person's JWT, seen before (its check remembered for 30 s) and at first sight (signature, claims,
 *   groups → role; the provider's keys cached), against the same token floor.
 * Both servers share one process, one database and one loopback, answering one client at a time.
 */

const ROUNDS = 2000;
const WARMUP = 200;

async function whoami(url: string, token: string): Promise<number> {
  const started = nowMs();
  const res = await fetch(`${url}/api/v1/whoami`, { headers: { authorization: `Bearer ${token}` } });
  await res.arrayBuffer();
  if (res.status !== 200) throw new Error(`whoami answered ${res.status}`);
  return nowMs() - started;
}

/** The kinds of request in turn, round after round, so a drift of the machine's load falls on each alike. */
async function interleaved(cases: ReadonlyArray<{ url: string; token: (round: number) => string }>): Promise<number[][]> {
  const samples = cases.map(() => [] as number[]);
  for (let i = 0; i < WARMUP + ROUNDS; i++) {
    for (const [k, c] of cases.entries()) {
      const ms = await whoami(c.url, c.token(i));
      if (i >= WARMUP) samples[k]!.push(ms);
    }
  }
  return samples;
}

export const signInSuite: BenchSuite = {
  name: 'sign-in',
  async run(): Promise<BenchResult[]> {
    const dir = mkdtempSync(join(tmpdir(), 'rewind-bench-sign-in-'));
    const provider = await startTestProvider();
    const backend = await openSandbox({ path: join(dir, 'server.db'), timeScale: 0, actor: 'bench' });
    const tokens = new TokenStore(backend.engine);
    const { token } = await tokens.issue({ name: 'bench', role: 'operator', createdBy: 'bench' });
    const common = { backend, tokens, latestSeq: () => backend.engine.latestSeq(), schemaVersion: backend.engine.schemaVersion, port: 0, logLevel: 'silent' as const };
    const plain = await createServer(common);
    const oidc = await createServer({
      ...common,
      oidc: new OidcVerifier({ issuer: provider.issuer, clientId: CLIENT_ID, audience: CLIENT_ID, groupsClaim: 'groups', roles: parseRoleMapping(testRoles), scopes: null }),
    });
    try {
      const jwt = (await signInAs(provider, 'alice')).bearer;
      // A fresh token per round, as the provider would sign them (its own key), so none was seen before.
      const fresh: string[] = [];
      for (let i = 0; i < WARMUP + ROUNDS; i++) fresh.push(await provider.mint({ sub: 'alice', email: 'alice@example.com', groups: ['rewind-operators'], jti: `bench-${i}` }));
      const [floor, tokenWithOidc, person, firstSight] = (
        await interleaved([
          { url: plain.url, token: () => token },
          { url: oidc.url, token: () => token },
          { url: oidc.url, token: () => jwt },
          { url: oidc.url, token: (i) => fresh[i]! },
        ])
      ).map((s) => percentile(s, 50)) as [number, number, number, number];
      return [
        result('API token whoami, p50, server with sign-in (vs without)', tokenWithOidc, 'ms', floor, { text: 'ratio ≤ 1.15', met: (r) => r <= 1.15 }),
        result("a person's JWT whoami, p50, seen before (vs an API token without sign-in)", person, 'ms', floor, { text: 'ratio ≤ 1.5', met: (r) => r <= 1.5 }),
        result("a person's JWT whoami, p50, first sight: signature checked (vs an API token without sign-in)", firstSight, 'ms', floor),
      ];
    } finally {
      await oidc.close();
      await plain.close();
      await backend.close();
      await provider.close();
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
