/*
 * The crash test's child: opens the engine on argv[2] (a SQLite file or a PostgreSQL URL) and performs acknowledged writes forever —
 * drafts, publishes, rollbacks and runs whose every checkpoint is acknowledged — printing one JSON
 * line per write only after it has committed. The parent kills it with SIGKILL at a random moment.
 */
import { Engine } from '../../../main/engine/engine.js';
import type { Dsl } from '../../../preload/contract/entities.js';
import { openStoreAt } from '../../support/open-store.js';

const location = process.argv[2];
if (!location) throw new Error('usage: crash-writer.ts DB-FILE|POSTGRES-URL');
const engine = await Engine.open({ store: await openStoreAt(location, 'crash-writer'), timeScale: 0 });
const ack = (line: Record<string, unknown>) => process.stdout.write(`${JSON.stringify(line)}\n`);

const chain = (n: number, tag: number): Dsl => ({
  defaults: { tag },
  nodes: Array.from({ length: n }, (_, i) => ({
    id: `n${i}`,
    type: 'task' as const,
    params: { duration_ms: 1, output: { [`v${i}`]: 'x'.repeat(256) } },
    next: i + 1 < n ? [`n${i + 1}`] : [],
  })),
});

engine.runs.onCheckpoint((c) => ack({ k: 'checkpoint', run_id: c.run_id, seq: c.seq }));
const wf = (await engine.workflows.list())[0] ?? await engine.workflows.create({ name: 'crash', description: '', dsl: chain(20, 0), source_type: 'MANUAL' }, 'crash');
ack({ k: 'ready' });

let i = 0;
for (;;) {
  i += 1;
  const versions = (await engine.versions.list({ workflow_id: wf.id, offset: 0, limit: 1000 })).versions;
  const draft = versions.find((v) => v.status === 'draft');
  const deprecated = versions.filter((v) => v.status === 'deprecated');
  const pick = Math.random();
  if (pick < 0.3 || (!draft && pick < 0.5)) {
    const v = await engine.versions.createDraft({ workflow_id: wf.id, change_log: `draft ${i}`, dsl: chain(20, i) }, 'crash');
    ack({ k: 'draft', workflow_id: wf.id, version: v.version, version_id: v.version_id });
  } else if (pick < 0.5 && draft) {
    const r = await engine.versions.publish({ workflow_id: wf.id, version: draft.version }, 'crash');
    ack({ k: 'event', seq: r.seq, type: 'version_published', to: r.version });
  } else if (pick < 0.7 && deprecated.length > 0) {
    const target = deprecated[Math.floor(Math.random() * deprecated.length)]!;
    const r = await engine.versions.rollback({ workflow_id: wf.id, version: target.version }, 'crash');
    ack({ k: 'event', seq: r.seq, type: 'workflow_rollback', to: r.version });
  } else {
    const run = await engine.runs.start({ workflow_id: wf.id, params: {}, faults: {}, wait: false }, 'crash');
    ack({ k: 'run', run_id: run.run_id });
  }
  await new Promise((r) => setImmediate(r));
}
