/*
 * Builds (or finds) the cached histories ahead of a bench run:
 *   npx tsx test/bench/history/build.ts [--events 10000,100000,1000000] [--store sqlite,postgres]
 * Prints each history's manifest line. See cache.ts for where they are kept.
 */
import { historyPostgres, postgresHistory, sqliteHistory } from './cache.js';

const arg = (name: string, fallback: string) => {
  const at = process.argv.indexOf(name);
  return (at >= 0 ? process.argv[at + 1] : undefined) ?? fallback;
};
const sizes = arg('--events', '10000,100000,1000000').split(',').map(Number);
const kinds = arg('--store', 'sqlite,postgres').split(',');
const log = (line: string) => process.stderr.write(`${line}\n`);

for (const kind of kinds) {
  const pg = kind === 'postgres' ? await historyPostgres() : null;
  try {
    for (const events of sizes) {
      const started = performance.now();
      const { manifest } = pg ? await postgresHistory(pg, events, log) : await sqliteHistory(events, log);
      const s = ((performance.now() - started) / 1000).toFixed(1);
      console.log(`${kind} ${events}: ${manifest.events} events, ${manifest.runs} runs, ${manifest.checkpoints} checkpoints, busy version ${manifest.busy_version_runs} runs (${s} s)`);
    }
  } finally {
    await pg?.stop();
  }
}
