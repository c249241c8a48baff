import type { TargetHealth } from '../../preload/contract/entities.js';
import { BAD_FAILURE_RATE } from './incidents.js';
import type { Queryable } from './store/port.js';

/*
 * What the log says about a version before an operator makes it active again: its finished runs'
 * failure rate (seed 003's trigger: above 20 % is bad), and whether a canary of it was aborted — by
 * a policy or a person — which marks it bad whatever its share of failures.
 */

const FINISHED_RUNS = `SELECT COUNT(*) AS runs, SUM(CASE WHEN status IN ('failed', 'interrupted') THEN 1 ELSE 0 END) AS failed
  FROM runs WHERE workflow_id = ? AND version = ? AND kind <> 'replay' AND status IN ('succeeded', 'failed', 'interrupted')`;
const ABORTED_CANARIES = "SELECT version, reason, ended_at FROM canaries WHERE workflow_id = ? AND state = 'aborted' ORDER BY started_at DESC";

const pct = (rate: number) => `${Math.round(rate * 1000) / 10} %`;

/** The versions whose canary ended aborted, newest first, with why. */
export function abortedCanaries(q: Queryable, workflowId: string): Promise<Array<{ version: number; reason: string | null; ended_at: string | null }>> {
  return q.all(ABORTED_CANARIES, [workflowId]);
}

export async function targetHealth(q: Queryable, workflowId: string, version: number): Promise<TargetHealth> {
  const row = await q.get<{ runs: number; failed: number | null }>(FINISHED_RUNS, [workflowId, version]);
  const runs = Number(row?.runs ?? 0);
  const failed = Number(row?.failed ?? 0);
  const rate = runs === 0 ? 0 : failed / runs;
  const canary = (await abortedCanaries(q, workflowId)).find((c) => c.version === version && !(c.reason ?? '').startsWith('superseded'));
  const reasons = [
    rate > BAD_FAILURE_RATE ? `v${version} failed ${failed} of its ${runs} finished runs (${pct(rate)}, above the ${pct(BAD_FAILURE_RATE)} threshold)` : null,
    canary ? `its canary was aborted${canary.reason ? `: ${canary.reason}` : ''}` : null,
  ].filter((r): r is string => r !== null);
  return { runs, failed, failure_rate: rate, threshold: BAD_FAILURE_RATE, bad: reasons.length > 0, reason: reasons.length ? `${reasons.join('; ')}.` : null };
}
