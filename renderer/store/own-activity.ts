/*
 * What this console itself did, so the live stream can tell another operator's changes (toast)
 * from our own (no toast). The contract names no "current actor", so we remember the event seqs
 * and run ids our own mutations answered with.
 */
const ownSeqs = new Set<number>();
const ownRuns = new Set<string>();

export function markOwnSeq(seq: number): void {
  ownSeqs.add(seq);
}

export function markOwnRun(runId: string): void {
  ownRuns.add(runId);
}

export function isOwn(e: { seq: number; run_id: string | null }): boolean {
  return ownSeqs.has(e.seq) || (e.run_id !== null && ownRuns.has(e.run_id));
}

export function resetOwnActivity(): void {
  ownSeqs.clear();
  ownRuns.clear();
}
