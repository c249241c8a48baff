/*
 * The schedule race's other engine, in its own process (two engines in one process on one SQLite
 * file would block each other's thread): opens the store at argv[2] with its clock stopped at
 * argv[3], makes argv[4] scheduler passes, waits for the runs it started, and prints how many it fired.
 */
import { Engine } from '../../../main/engine/engine.js';
import { openStoreAt } from '../../support/open-store.js';

const [location, at, passes] = process.argv.slice(2);
if (!location || !at || !passes) throw new Error('usage: schedule-racer.ts DB-FILE|POSTGRES-URL ISO-TIME PASSES');
const engine = await Engine.open({ store: await openStoreAt(location, 'schedule-racer'), clock: () => new Date(at) });
process.stdout.write('ready\n');
let fired = 0;
for (let i = 0; i < Number(passes); i += 1) {
  const runs = await engine.schedules.tick();
  fired += runs.length;
  for (const r of runs) await engine.runs.wait(r.run_id);
}
await engine.close();
process.stdout.write(`${JSON.stringify({ fired })}\n`);
