import { useEffect } from 'react';
import { useShallow } from 'zustand/react/shallow';
import type { StoredRunbook } from '../../preload/contract/index.js';
import { ErrorNotice } from '../shared/ErrorNotice.js';
import { formatShortTime } from '../shared/format.js';
import { Progress } from '../shared/Progress.js';
import { StatusBadge } from '../shared/StatusBadge.js';
import { useHistory } from '../store/history-store.js';
import { HistoryChart } from './HistoryChart.js';
import { paceLabel } from './plan.js';
import { formatDuration, plannedMs } from '../../preload/contract/index.js';

/** Every rehearsal of a runbook: the time-to-recover chart and the table, each with its report. */
export function RehearsalHistory({ runbook }: { runbook: StoredRunbook }) {
  const rehearsals = useHistory(useShallow((s) => s.rehearsals));
  const loading = useHistory((s) => s.loading);
  const error = useHistory((s) => s.error);
  const planned = plannedMs(runbook.runbook);

  useEffect(() => {
    void useHistory.getState().load(runbook.id);
  }, [runbook.id]);

  const open = (id: string) => void useHistory.getState().openReport(id);

  return (
    <section className="rehearsal-history" aria-label={`Rehearsals of ${runbook.name}`} data-testid="rehearsal-history">
      {loading && rehearsals.length === 0 ? <Progress label="Loading the history…" /> : null}
      {error ? <ErrorNotice error={error} onReload={() => void useHistory.getState().load(runbook.id)} testId="history-error" /> : null}
      {rehearsals.length === 0 && !loading ? <p className="muted">Not rehearsed yet. Rehearse it to see its time to recover here.</p> : null}
      {rehearsals.length > 0 ? (
        <>
          <h3>Time to recover</h3>
          <HistoryChart rehearsals={rehearsals} planMs={planned} onOpen={open} />
          <table className="history-table">
            <thead>
              <tr>
                <th scope="col">Started</th>
                <th scope="col">Scenario</th>
                <th scope="col">Pace</th>
                <th scope="col">By</th>
                <th scope="col">Result</th>
                <th scope="col">Time to recover</th>
                <th scope="col">vs plan</th>
                <th scope="col">
                  <span className="sr-only">Report</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {rehearsals.map((r) => {
                const failed = r.steps.find((s) => s.outcome === 'failed');
                return (
                  <tr key={r.id} data-testid="history-row" data-passed={r.passed ? 'true' : 'false'}>
                    <td className="mono">{formatShortTime(r.started_at)}</td>
                    <td>{r.scenario ?? '—'}</td>
                    <td data-testid="history-pace" data-pace={r.pace ?? undefined} title={r.pace === 'automatic' ? 'Steps ran by themselves: this times the machine, not an operator' : r.pace === 'paced' ? 'Each step waited for the operator' : 'Recorded before the pace was kept'}>
                      {r.pace ? paceLabel(r.pace) : '—'}
                    </td>
                    <td>{r.created_by}</td>
                    <td>
                      <StatusBadge status={r.passed ? 'succeeded' : 'failed'} label={r.passed ? 'passed' : 'failed'} />
                      {failed ? <span className="muted"> at step {failed.index}</span> : null}
                    </td>
                    <td className="mono">{formatDuration(r.total_ms)}</td>
                    <td className={r.total_ms > planned ? 'mono is-over' : 'mono'}>{r.total_ms > planned ? `+${formatDuration(r.total_ms - planned)}` : `−${formatDuration(planned - r.total_ms)}`}</td>
                    <td>
                      <button type="button" className="btn btn-small" onClick={() => open(r.id)} data-testid="history-report">
                        Report
                      </button>
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </>
      ) : null}
    </section>
  );
}
