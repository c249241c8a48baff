import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { buildNode } from '../../scripts/build-node.mjs';
import { type BenchResult, type BenchSuite, nowMs, percentile, result } from './lib.js';

/*
 * How long a `rewind` call takes from the shell, against a bare `node -e 0` started side by side in
 * the same rounds (interleaved, so load on the machine hits both alike): the compiled CLI for
 * `--version` (no backend) and for `workflows --json` on a small sandbox (SQLite, the engine, zod),
 * plus the same call transpiled by tsx at run time, as the CLI ran before it was compiled.
 */

const ROUNDS = 15;
const root = resolve(import.meta.dirname, '../..');
const GOAL = { text: 'median ≤ 4× node -e 0', met: (ratio: number) => ratio <= 4 };

function timed(args: string[]): number {
  const started = nowMs();
  const r = spawnSync(process.execPath, args, { cwd: root, encoding: 'utf8', env: { ...process.env, REWIND_SERVER: '' } });
  const elapsed = nowMs() - started;
  if (r.status !== 0) throw new Error(`${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return elapsed;
}

export const cliSuite: BenchSuite = {
  name: 'cli',
  async run(): Promise<BenchResult[]> {
    await buildNode();
    const dir = mkdtempSync(join(tmpdir(), 'rewind-bench-cli-'));
    try {
      const db = join(dir, 'sandbox.db');
      const bin = join(root, 'bin/rewind.mjs');
      // The first call creates the sandbox with the demo workflows; the measured ones open it.
      timed([bin, '--db', db, 'workflows']);
      const commands = {
        bare: ['-e', '0'],
        version: [bin, '--version'],
        workflows: [bin, '--db', db, '--json', 'workflows'],
        tsx: ['--import', 'tsx', join(root, 'main/cli/index.ts'), '--db', db, '--json', 'workflows'],
      };
      const samples: Record<keyof typeof commands, number[]> = { bare: [], version: [], workflows: [], tsx: [] };
      for (let round = 0; round < ROUNDS; round++) {
        for (const [name, args] of Object.entries(commands) as Array<[keyof typeof commands, string[]]>) samples[name].push(timed(args));
      }
      const median = (name: keyof typeof commands) => percentile(samples[name], 50);
      const bare = median('bare');
      return [
        result('rewind --version, median start to exit (vs node -e 0)', median('version'), 'ms', bare, GOAL),
        result('rewind workflows --json on a small sandbox, median (vs node -e 0)', median('workflows'), 'ms', bare, GOAL),
        result('the same through tsx, as before compiling (vs node -e 0)', median('tsx'), 'ms', bare),
      ];
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
