import type { Role } from '../../preload/contract/index.js';
import { ErrorNotice } from '../shared/ErrorNotice.js';
import { GuardedButton } from '../shared/GuardedButton.js';
import { useIncidentRecords } from '../store/incident-records-store.js';
import { incidentStage, incidentTimes } from './incident-times.js';

/**
 * The incident record on a failing workflow's card: its id and stage, who is on it, the times from
 * the first failure so far, and what to do with it — "I'm on it", the report, the rollback plan.
 */
export function IncidentRecordLine({ workflowId, role }: { workflowId: string; role: Role | null }) {
  const record = useIncidentRecords((s) => s.open[workflowId] ?? null);
  const acknowledging = useIncidentRecords((s) => s.acknowledging !== null && s.acknowledging === record?.incident_id);
  const error = useIncidentRecords((s) => (s.actionError && s.actionError.incidentId === record?.incident_id ? s.actionError.error : null));
  if (!record) return null;
  const { acknowledge, openReport, openPlan } = useIncidentRecords.getState();
  const times = incidentTimes(record);
  return (
    <div className="incident-record" data-testid="incident-record" data-incident-id={record.incident_id} data-stage={incidentStage(record)}>
      <p className="incident-record-line">
        <span className="mono">{record.incident_id}</span> · <strong data-testid="incident-record-stage">{incidentStage(record)}</strong>
        {record.rehearsal ? <span className="muted"> · rehearsal</span> : null}
        {times.length ? (
          <span className="muted" data-testid="incident-record-times">
            {' '}
            · {times.join(' · ')}
          </span>
        ) : (
          <span className="muted"> · nobody has acknowledged it yet</span>
        )}
      </p>
      <div className="incident-actions">
        {record.acknowledged ? null : (
          <GuardedButton action="acknowledge" role={role} disabled={acknowledging} className="btn btn-small" onClick={() => void acknowledge(record.incident_id)} testId="incident-ack">
            I’m on it
          </GuardedButton>
        )}
        <button type="button" className="btn btn-small" onClick={() => void openPlan(record.incident_id)} data-testid="incident-plan">
          Plan the rollback
        </button>
        <button type="button" className="btn btn-ghost btn-small" onClick={() => void openReport(record.incident_id)} data-testid="incident-report">
          Report
        </button>
      </div>
      {error ? <ErrorNotice error={error} testId="incident-record-error" /> : null}
    </div>
  );
}
