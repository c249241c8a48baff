import type { WaitingApproval } from '../../preload/contract/index.js';

/*
 * How an approval reads, wherever it is shown (home, inspector, confirmation, notification): the
 * prompt, who asks, what the run has done so far. Pure, so the notification rules use it too.
 */

/** "run 3f2a… · v3 · schedule · started by ci-bot". */
export function askerText(a: Pick<WaitingApproval, 'run'>): string {
  return `run ${a.run.run_id} · v${a.run.version} · ${a.run.trigger} · started by ${a.run.created_by}`;
}

/** "done 2 of 4: build, test" — or, from a server that does not say, nothing. */
export function doneText(done: readonly string[], total: number | null): string | null {
  if (total === null || total === 0) return done.length ? `done: ${done.join(', ')}` : null;
  return done.length === 0 ? `nothing done yet of ${total} nodes` : `done ${done.length} of ${total}: ${done.join(', ')}`;
}

/** The prompt as it is quoted; the node when there is no prompt. */
export function promptText(a: Pick<WaitingApproval, 'prompt' | 'node_id'>): string {
  return a.prompt ? `“${a.prompt}”` : `Approval at ${a.node_id ?? 'an approval node'} (no prompt)`;
}
