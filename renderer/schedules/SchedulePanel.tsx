import { useEffect } from 'react';
import type { Workflow } from '../../preload/contract/index.js';
import { GuardedButton } from '../shared/GuardedButton.js';
import { formatTime } from '../shared/format.js';
import { useConnections } from '../store/connections-store.js';
import { selectRole } from '../store/selectors.js';
import { useSchedule } from '../store/schedule-store.js';
import { BackfillDialog } from './BackfillDialog.js';

/** The schedule line of a workflow: its cron, the next three fire times, its catch-up policy, and Backfill. */
export function SchedulePanel({ workflow }: { workflow: Workflow }) {
  const info = useSchedule((s) => (s.info?.workflow_id === workflow.id ? s.info : null));
  const open = useSchedule((s) => s.backfillOpen);
  const role = useConnections(selectRole);

  // Reloaded on every change of the workflow (its revision moves with the schedule, a pause, a publish).
  useEffect(() => {
    void useSchedule.getState().load(workflow.id);
  }, [workflow.id, workflow.revision, workflow.schedule]);

  if (!workflow.schedule) return null;
  return (
    <div className="schedule-panel" data-testid="schedule-panel">
      <span className="mono" data-testid="schedule-expression" title="Cron schedule, in UTC">
        {workflow.schedule}
      </span>
      {info ? (
        <>
          <span className="muted" data-testid="schedule-policy">
            catch-up {info.catchup}
            {info.max_concurrent === null ? '' : `, ≤ ${info.max_concurrent} at once`}
          </span>
          <span className="muted">{info.firing ? 'next:' : 'not firing; would fire:'}</span>
          <ol className="schedule-next" aria-label="Next fire times">
            {info.next.map((t) => (
              <li key={t} data-testid="schedule-next-time" title={t}>
                {formatTime(t)}
              </li>
            ))}
          </ol>
        </>
      ) : null}
      <GuardedButton action="backfill" role={role} onClick={() => useSchedule.getState().openBackfill()} testId="schedule-backfill">
        Backfill…
      </GuardedButton>
      {open ? <BackfillDialog workflow={workflow} /> : null}
    </div>
  );
}
