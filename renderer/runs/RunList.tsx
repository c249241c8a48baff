import { useCallback, useEffect, useMemo, useState } from 'react';
import { useShallow } from 'zustand/react/shallow';
import { runStatusSchema, type RunStatus } from '../../preload/contract/index.js';
import { FilterSelect } from '../shared/FilterSelect.js';
import { ErrorNotice } from '../shared/ErrorNotice.js';
import { formatShortTime } from '../shared/format.js';
import { StatusBadge } from '../shared/StatusBadge.js';
import { VirtualList } from '../shared/VirtualList.js';
import { useInspector } from '../store/inspector-store.js';
import { useRuns } from '../store/runs-store.js';
import { selectRuns } from '../store/selectors.js';
import { useWorkflows } from '../store/workflows-store.js';

const STATUSES: RunStatus[] = runStatusSchema.options;
/** Rows from the end of what is loaded at which the next page is asked for. */
const LOAD_AHEAD = 20;

export function RunList() {
  const runs = useRuns(useShallow(selectRuns));
  const total = useRuns((s) => s.total);
  const filter = useRuns((s) => s.filter);
  const loaded = useRuns((s) => s.loaded);
  const error = useRuns((s) => s.error);
  const loading = useRuns((s) => s.loading);
  const workflows = useWorkflows((s) => s.workflows);
  const openRunId = useInspector((s) => s.runId);
  const [active, setActive] = useState(0);
  const names = useMemo(() => new Map(workflows.map((w) => [w.id, w.name])), [workflows]);
  // The newest page is read when the list is first shown; older ones as it scrolls.
  useEffect(() => {
    if (!loaded && !loading && !error) void useRuns.getState().load();
  }, [loaded, loading, error]);
  const onVisibleEnd = useCallback((last: number) => {
    if (last >= useRuns.getState().runs.length - LOAD_AHEAD) void useRuns.getState().loadMore();
  }, []);

  return (
    <section className="run-list" aria-label="Runs">
      <div className="panel-title">
        <h2 tabIndex={-1} data-view-heading>
          Runs
        </h2>
        <span className="muted" data-testid="runs-count">
          {runs.length < total ? `${runs.length} of ${total}` : total}
        </span>
      </div>
      <div className="filters">
        <FilterSelect
          label="Workflow"
          allLabel="All workflows"
          value={filter.workflowId ?? ''}
          options={[...names].map(([id, name]) => ({ value: id, label: name }))}
          onChange={(id) => void useRuns.getState().setFilter({ workflowId: id || null })}
          testId="runs-filter-workflow"
        />
        <FilterSelect
          label="Status"
          allLabel="Any status"
          value={filter.status ?? ''}
          options={STATUSES.map((st) => ({ value: st, label: st }))}
          onChange={(value) => {
            const v = runStatusSchema.safeParse(value);
            void useRuns.getState().setFilter({ status: v.success ? v.data : null });
          }}
          testId="runs-filter-status"
        />
      </div>
      {error ? <ErrorNotice error={error} onReload={() => void useRuns.getState().load()} /> : null}
      <VirtualList
        items={runs}
        rowHeight={48}
        getKey={(r) => r.run_id}
        activeIndex={active}
        onActiveChange={setActive}
        onVisibleEnd={onVisibleEnd}
        onActivate={(i) => runs[i] && void useInspector.getState().open(runs[i].run_id)}
        label="Runs"
        testId="run-list"
        emptyText={loaded ? 'No run matches.' : 'Loading…'}
        renderRow={(r, _i, isActive) => (
          <button
            type="button"
            className={r.run_id === openRunId ? 'row-button run-row is-selected' : 'row-button run-row'}
            tabIndex={isActive ? 0 : -1}
            data-primary
            aria-current={r.run_id === openRunId ? 'true' : undefined}
            onClick={() => void useInspector.getState().open(r.run_id)}
            data-testid="run-row"
            data-run-id={r.run_id}
            data-status={r.status}
            // The whole row on hover, whatever a narrow list cuts.
            title={`${r.run_id} · ${r.status} · v${r.version} · ${names.get(r.workflow_id) ?? r.workflow_id}${r.failed_node ? ` · at ${r.failed_node}` : ''}`}
          >
            <span className="run-row-top">
              <StatusBadge status={r.status} testId="run-status" />
              <span className="mono run-id">{r.run_id}</span>
              <span className="muted">v{r.version}</span>
              {r.trigger === 'manual' ? null : (
                <span className="muted" data-testid="run-trigger" title={r.logical_date ? `for the tick ${r.logical_date}` : undefined}>
                  {r.trigger}
                  {r.logical_date ? ` ${formatShortTime(r.logical_date)}` : ''}
                </span>
              )}
            </span>
            <span className="run-row-bottom muted">
              <span className="run-workflow">{names.get(r.workflow_id) ?? r.workflow_id}</span>
              <span className="run-time">{formatShortTime(r.started_at ?? r.created_at)}</span>
              {r.failed_node ? <span className="run-failed-node">at {r.failed_node}</span> : null}
            </span>
          </button>
        )}
      />
    </section>
  );
}
