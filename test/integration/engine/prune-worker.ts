/*
 * The pruning crash test's child: opens the engine on argv[2] (a SQLite file or a PostgreSQL URL) and
 * runs retention passes in small batches until one completes, printing `ready` first and `done` at
 * the end. The parent kills it with SIGKILL at a random moment of the pass.
 */
import { Engine } from '../../../main/engine/engine.js';
import { openStoreAt } from '../../support/open-store.js';

const location = process.argv[2];
const now = process.argv[3];
if (!location || !now) throw new Error('usage: prune-worker.ts DB-FILE|POSTGRES-URL NOW');
// A short lease: the next child takes over from a killed one within a third of a second.
const engine = await Engine.open({ store: await openStoreAt(location, `prune-${process.pid}`), retentionTuning: { batchRuns: 4, batchRows: 50, leaseMs: 300, pauseMs: 0 } });
process.stdout.write('ready\n');
for (;;) {
  const report = await engine.prune({ retainMs: 90 * 86_400_000, label: '90 days', keepFailedCheckpoints: false }, new Date(now));
  if (report) {
    process.stdout.write(`${JSON.stringify({ done: true, runs: report.runs })}\n`);
    break;
  }
  await new Promise((r) => setTimeout(r, 50));
}
await engine.close();
