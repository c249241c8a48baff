import type { Run, VersionListItem } from '../../preload/contract/index.js';

/**
 * The version a resume should default to: the one a rollback would go to, never the bad version the
 * run failed on while it is still active. The run's version is active → the newest version published
 * before it (the last good one); the workflow was rolled back since → its active version; nothing
 * else was ever published → the run's own version.
 */
export function defaultResumeVersion(run: Run, versions: readonly VersionListItem[]): number {
  const active = versions.find((v) => v.status === 'active');
  if (active && active.version !== run.version) return active.version;
  const lastGood = versions
    .filter((v) => v.version < run.version && v.published_at !== null && v.status !== 'archived')
    .sort((a, b) => b.version - a.version)[0];
  return lastGood?.version ?? run.version;
}

/** The resume children of a run, newest first: a run resumed once is not offered for resume again. */
export function resumeChildren(runId: string, runs: readonly Run[]): Run[] {
  return runs.filter((r) => r.parent_run_id === runId && r.kind === 'resume').sort((a, b) => (a.created_at < b.created_at ? 1 : -1));
}
