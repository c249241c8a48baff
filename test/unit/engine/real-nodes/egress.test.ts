import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EngineBackend } from '../../../../main/backends/engine-backend.js';
import { Egress } from '../../../../main/engine/egress/egress.js';
import { httpParamsSchema } from '../../../../main/engine/dsl/node-params.js';
import { runHttpNode } from '../../../../main/engine/executor/http-node.js';
import type { RealNodeContext } from '../../../../main/engine/executor/real-node.js';
import { staticSecrets } from '../../../../main/engine/executor/secrets.js';
import { egressProbe, metadataUrls } from '../../../support/egress.js';
import { openTempEngine, tempDbPath } from '../fixtures.js';
import { localService } from './local-service.js';

/*
 * An http node connects through the egress policy: the cloud metadata service is never reached —
 * not by any spelling of its address, not through a name that resolves to it, not through a redirect
 * that points at it — while internal services on loopback and private ranges are. The resolver and
 * connector are injected: every refusal is asserted to happen before anything is dialled, and
 * nothing but loopback is ever dialled.
 */

const params = (p: Record<string, unknown>) => httpParamsSchema.parse({ method: 'GET', retries: 2, backoff_ms: 1, ...p });

describe('http node egress', () => {
  let svc: Awaited<ReturnType<typeof localService>>;
  let port: number;
  beforeAll(async () => {
    svc = await localService({
      '/ok': (_req, res, seen) => void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ host: seen.headers.host })),
      '/to-metadata': (_req, res) => void res.writeHead(302, { location: 'http://169.254.169.254/latest/meta-data/' }).end(),
      '/to-alias': (_req, res) => void res.writeHead(307, { location: `http://metadata-alias.test:${port}/latest/meta-data/` }).end(),
      '/to-ok': (_req, res) => void res.writeHead(302, { location: `http://svc.test:${port}/ok` }).end(),
    });
    port = Number(new URL(svc.url).port);
  });
  afterAll(() => svc.close());

  const names = () => ({
    'svc.test': ['127.0.0.1'],
    'metadata-alias.test': ['169.254.169.254'],
    'rebinding.test': ['127.0.0.1', '169.254.169.254'],
    'v6-metadata.test': ['fd00:ec2::254'],
  });

  function setup() {
    const probe = egressProbe(names());
    const egress = new Egress({ allowPrivate: true, what: 'http node', resolve: probe.resolve, connect: probe.connect });
    const ctx: RealNodeContext = { context: { outputs: {} }, secrets: staticSecrets({}), runId: 'run-1', nodeId: 'fetch', signal: new AbortController().signal, egress };
    return { probe, egress, ctx };
  }

  it.each(metadataUrls)('refuses %s before dialling anything, naming the address and the rule, and does not retry', async (url) => {
    const { probe, egress, ctx } = setup();
    try {
      const result = await runHttpNode(params({ url }), ctx);
      expect(result.ok).toBe(false);
      const error = (result as { error: string }).error;
      expect(error).toContain('EGRESS_REFUSED');
      expect(error).toMatch(/link-local and cloud metadata addresses are never reached/);
      expect(error).not.toContain('attempts');
      expect(probe.dialled).toEqual([]);
      // A literal address or a metadata name is refused as written: nothing is looked up.
      expect(probe.looked).toEqual([]);
    } finally {
      await egress.close();
    }
  });

  it('refuses a name that resolves to the metadata service, naming both', async () => {
    const { probe, egress, ctx } = setup();
    try {
      for (const host of ['metadata-alias.test', 'v6-metadata.test']) {
        const result = await runHttpNode(params({ url: `http://${host}:${port}/latest/meta-data/` }), ctx);
        const error = (result as { error: string }).error;
        expect(error).toContain('EGRESS_REFUSED');
        expect(error).toContain(host);
        expect(error).toMatch(/169\.254\.169\.254|fd00:ec2::254/);
      }
      expect(probe.looked).toEqual(['metadata-alias.test', 'v6-metadata.test']);
      expect(probe.dialled).toEqual([]);
    } finally {
      await egress.close();
    }
  });

  it('refuses a name whose addresses include the metadata service, even beside a good one (no rebinding between check and connect)', async () => {
    const { probe, egress, ctx } = setup();
    try {
      const result = await runHttpNode(params({ url: `http://rebinding.test:${port}/ok` }), ctx);
      expect((result as { error: string }).error).toContain('EGRESS_REFUSED');
      expect(probe.dialled).toEqual([]);
    } finally {
      await egress.close();
    }
  });

  it('re-checks every redirect hop: a redirect to the metadata address or to a name resolving to it is refused', async () => {
    const { probe, egress, ctx } = setup();
    try {
      for (const path of ['/to-metadata', '/to-alias']) {
        const result = await runHttpNode(params({ url: `${svc.url}${path}` }), ctx);
        const error = (result as { error: string }).error;
        expect(error, path).toContain('EGRESS_REFUSED');
        expect(error, path).toContain('169.254.169.254');
      }
      // Only the first hop, on loopback, was ever dialled.
      expect(probe.dialled.every((a) => a === '127.0.0.1')).toBe(true);
      expect(svc.seen.filter((s) => s.url.startsWith('/to-')).length).toBe(2);
    } finally {
      await egress.close();
    }
  });

  it('reaches internal services: a name resolving to loopback is dialled at the checked address, with its own Host, redirects included', async () => {
    const { probe, egress, ctx } = setup();
    try {
      expect(await runHttpNode(params({ url: `http://svc.test:${port}/ok` }), ctx)).toEqual({ ok: true, output: { host: `svc.test:${port}` } });
      expect(await runHttpNode(params({ url: `${svc.url}/to-ok` }), ctx)).toEqual({ ok: true, output: { host: `svc.test:${port}` } });
      expect(probe.dialled).toContain('127.0.0.1');
      expect(probe.dialled.every((a) => a === '127.0.0.1')).toBe(true);
    } finally {
      await egress.close();
    }
  });

  it('holds in a live engine: a run whose http node points at the metadata service fails with EGRESS_REFUSED, nothing dialled', async () => {
    const probe = egressProbe(names());
    const engine = await openTempEngine({ path: tempDbPath(), liveExecution: true, egress: { resolve: probe.resolve, connect: probe.connect } });
    const backend = new EngineBackend(engine, 'alice');
    const wf = await backend.call('workflows:create', {
      name: 'steal-credentials',
      dsl: { defaults: {}, nodes: [{ id: 'grab', type: 'http', params: { method: 'GET', url: `http://metadata-alias.test:${port}/latest/meta-data/` }, next: [] }] },
    });
    const run = await backend.call('runs:start', { workflow_id: wf.id, wait: true });
    expect(run.status).toBe('failed');
    expect(run.error).toContain('EGRESS_REFUSED');
    expect(run.error).toContain('metadata-alias.test (169.254.169.254)');
    expect(probe.dialled).toEqual([]);
  });
});
