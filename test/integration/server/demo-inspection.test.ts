import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { inspectBatch } from '../../../main/engine/demo/inspection.js';
import { type ChildServer, api, killHard, spawnServer, startServer, tempDir } from './harness.js';

/*
 * `--demo` exercises real work: the server serves an inspection station on itself, and the seeded
 * `line-inspection` workflow calls it over http at whatever port the server is on now.
 */

const ADMIN = 'rwt_demo-inspection-admin-token-0001';
type Json = Record<string, unknown>;

describe('the demo inspection station', () => {
  const dir = tempDir('rewind-demo-inspect-');
  const db = join(dir, 'demo.db');
  let child: ChildServer | null = null;
  afterAll(async () => {
    if (child) await killHard(child);
    rmSync(dir, { recursive: true, force: true });
  });

  async function runLineInspection(url: string, batch: number): Promise<{ run: Json; checkpoints: Json[] }> {
    const list = await api(url, ADMIN, 'GET', '/api/v1/workflows?query=line-inspection');
    const wf = (list.json as { workflows: Json[] }).workflows.find((w) => w.name === 'line-inspection');
    expect(wf).toBeDefined();
    const started = await api(url, ADMIN, 'POST', `/api/v1/workflows/${String(wf!.id)}/runs`, { params: { batch }, wait: true });
    expect(started.status).toBeLessThan(300);
    const run = started.json as Json;
    const cps = await api(url, ADMIN, 'GET', `/api/v1/runs/${String(run.run_id)}/checkpoints`);
    return { run, checkpoints: (cps.json as { checkpoints: Json[] }).checkpoints };
  }

  it('answers a batch without a token, and line-inspection checkpoints that answer, also after a restart on another port', async () => {
    child = await spawnServer(['--db', db, '--port', '0', '--host', '127.0.0.1', '--demo'], { REWIND_ADMIN_TOKEN: ADMIN });
    const direct = await api(child.url, undefined, 'GET', '/demo/inspect?batch=7');
    expect(direct.status).toBe(200);
    expect(direct.json).toEqual(inspectBatch(7));
    expect((await api(child.url, undefined, 'GET', '/demo/inspect?batch=7')).json).toEqual(direct.json);
    const bad = await api(child.url, undefined, 'GET', '/demo/inspect?batch=seven');
    expect(bad.status).toBe(422);
    expect((bad.json as { error: { code: string } }).error.code).toBe('VALIDATION_FAILED');

    const first = await runLineInspection(child.url, 7);
    expect(first.run.status).toBe('succeeded');
    const answer = first.checkpoints.find((c) => c.node_id === 'inspect_batch');
    expect((answer?.state as Json).output).toEqual(inspectBatch(7));
    expect(((answer?.state as Json).context as Json).inspection).toEqual(inspectBatch(7));
    // The lent address stays out of what the run records.
    expect(((answer?.state as Json).context as Json).server).toBeUndefined();
    const judged = first.checkpoints.find((c) => c.node_id === 'judge_batch');
    expect(((judged?.state as Json).output as Json).verdict).toBe(inspectBatch(7).verdict);

    const oldPort = new URL(child.url).port;
    child.proc.kill('SIGTERM');
    await child.exited;
    child = await spawnServer(['--db', db, '--port', '0', '--demo'], { REWIND_ADMIN_TOKEN: ADMIN });
    expect(new URL(child.url).port).not.toBe(oldPort);
    const again = await runLineInspection(child.url, 12);
    expect(again.run.status).toBe('succeeded');
    expect((again.checkpoints.find((c) => c.node_id === 'inspect_batch')?.state as Json).output).toEqual(inspectBatch(12));
  });

  it('is not there without --demo: 404, not 401', async () => {
    const s = await startServer();
    try {
      const r = await api(s.url, undefined, 'GET', '/demo/inspect?batch=7');
      expect(r.status).toBe(404);
      expect((r.json as { error: { code: string } }).error.code).toBe('NOT_FOUND');
    } finally {
      await s.close();
    }
  });
});

describe('inspectBatch', () => {
  it('is deterministic and judges by the plant policy', () => {
    for (let batch = 1; batch <= 200; batch += 1) {
      const r = inspectBatch(batch);
      expect(inspectBatch(batch)).toEqual(r);
      expect(r.defect_rate).toBe(r.defects / r.sample_size);
      expect(r.verdict).toBe(r.defect_rate > 0.06 ? 'reject' : r.defect_rate > 0.03 ? 'warning' : 'pass');
    }
  });
});
