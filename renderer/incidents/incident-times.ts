import type { IncidentRecord } from '../../preload/contract/index.js';
import { formatDuration } from '../../preload/contract/runbooks.js';

/** An incident's stage at a glance, as the card's badge says it. */
export function incidentStage(r: IncidentRecord): 'open' | 'acknowledged' | 'mitigated' | 'resolved' {
  return r.resolved ? 'resolved' : r.mitigated ? 'mitigated' : r.acknowledged ? 'acknowledged' : 'open';
}

/** The record's times from the first failure, the ones that happened: "acknowledged by bob in 1 min · mitigated (rollback by carol) in 4 min". */
export function incidentTimes(r: IncidentRecord): string[] {
  const took = (s: number) => formatDuration(s * 1000);
  const out: string[] = [];
  if (r.acknowledged && r.time_to_acknowledge_s !== null) out.push(`acknowledged by ${r.acknowledged.by} in ${took(r.time_to_acknowledge_s)}`);
  if (r.mitigated && r.time_to_mitigate_s !== null) out.push(`mitigated (${r.mitigated.action} by ${r.mitigated.by}) in ${took(r.time_to_mitigate_s)}`);
  if (r.resolved && r.time_to_resolve_s !== null) out.push(`resolved by ${r.resolved.by} in ${took(r.time_to_resolve_s)}`);
  return out;
}
