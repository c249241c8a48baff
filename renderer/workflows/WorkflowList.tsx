import { useMemo, useState } from 'react';
import { useShallow } from 'zustand/react/shallow';
import type { Workflow } from '../../preload/contract/index.js';
import { ErrorNotice } from '../shared/ErrorNotice.js';
import { useApprovals, waitingByWorkflow } from '../store/approvals-store.js';
import { StatusBadge } from '../shared/StatusBadge.js';
import { VirtualList } from '../shared/VirtualList.js';
import { selectFilteredWorkflows } from '../store/selectors.js';
import { useUi } from '../store/ui-store.js';
import { useWorkflows } from '../store/workflows-store.js';
import { useTemplates } from '../templates/templates-store.js';

export function WorkflowList() {
  const workflows = useWorkflows(useShallow(selectFilteredWorkflows));
  const query = useWorkflows((s) => s.query);
  const selectedId = useWorkflows((s) => s.selectedId);
  const error = useWorkflows((s) => s.error);
  const loaded = useWorkflows((s) => s.loaded);
  const [active, setActive] = useState(0);
  const waitingRuns = useApprovals((s) => s.waiting);
  const waiting = useMemo(() => waitingByWorkflow(waitingRuns), [waitingRuns]);

  const open = (w: Workflow) => {
    useWorkflows.getState().select(w.id);
    useUi.getState().setView('workflows');
  };

  return (
    <nav className="workflow-list" aria-label="Workflows">
      <div className="panel-title">
        <h2>Workflows</h2>
        <span className="muted">{loaded ? workflows.length : '…'}</span>
        <button
          type="button"
          className="btn btn-ghost btn-small"
          onClick={() => void useTemplates.getState().show()}
          title="New workflow from template"
          aria-label="New workflow from template"
          data-testid="new-from-template"
        >
          + Template
        </button>
      </div>
      <input
        type="search"
        className="input"
        placeholder="Search workflows"
        aria-label="Search workflows"
        value={query}
        onChange={(e) => {
          useWorkflows.getState().setQuery(e.target.value);
          setActive(0);
        }}
        data-testid="workflow-search"
      />
      {error ? <ErrorNotice error={error} onReload={() => void useWorkflows.getState().load()} /> : null}
      <VirtualList
        items={workflows}
        rowHeight={52}
        getKey={(w) => w.id}
        activeIndex={active}
        onActiveChange={setActive}
        onActivate={(i) => workflows[i] && open(workflows[i])}
        label="Workflows"
        testId="workflow-list"
        emptyText={loaded ? 'No workflow matches.' : 'Loading…'}
        renderRow={(w, _i, isActive) => (
          <button
            type="button"
            className={w.id === selectedId ? 'row-button workflow-row is-selected' : 'row-button workflow-row'}
            tabIndex={isActive ? 0 : -1}
            data-primary
            aria-current={w.id === selectedId ? 'true' : undefined}
            onClick={() => open(w)}
            data-testid="workflow-row"
            data-workflow-id={w.id}
            data-workflow-name={w.name}
          >
            <span className="workflow-name">{w.name}</span>
            <span className="workflow-meta">
              <StatusBadge status={w.status} testId="workflow-status" />
              <span className="muted">{w.active_version === null ? 'unpublished' : `v${w.active_version}`}</span>
              {w.failed_runs > 0 ? (
                <StatusBadge status="failed" label={`${w.failed_runs} failed`} testId="workflow-failed-badge" />
              ) : null}
              {waiting.get(w.id) ? (
                <StatusBadge status="waiting" label={`${waiting.get(w.id)} to approve`} testId="workflow-waiting-badge" />
              ) : null}
            </span>
          </button>
        )}
      />
    </nav>
  );
}
