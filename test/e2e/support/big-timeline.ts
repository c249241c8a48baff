import type { EngineBackend } from '../../../main/backends/engine-backend.js';

export const BIG_WORKFLOW = 'big-timeline';

/** A workflow with `count` versions, created in one transaction straight through the engine. */
export async function seedBigTimeline(sandbox: EngineBackend, count = 10_000): Promise<void> {
  const dsl = (ms: number) => ({
    nodes: [
      { id: 'extract', type: 'task' as const, params: { duration_ms: ms }, next: ['load'] },
      { id: 'load', type: 'task' as const, params: { duration_ms: 10 }, next: [] },
    ],
    defaults: {},
  });
  const wf = await sandbox.call('workflows:create', { name: BIG_WORKFLOW, dsl: dsl(1), change_log: 'v1' });
  const { engine } = sandbox;
  await engine.mutate(async () => {
    for (let v = 2; v <= count; v++) {
      await engine.versions.createDraft({ workflow_id: wf.id, dsl: dsl(v), change_log: `tune extract to ${v} ms` }, 'load.test');
    }
  });
}
