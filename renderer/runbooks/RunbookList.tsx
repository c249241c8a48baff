import { useRef, type KeyboardEvent } from 'react';
import { useShallow } from 'zustand/react/shallow';
import { ErrorNotice } from '../shared/ErrorNotice.js';
import { StatusBadge } from '../shared/StatusBadge.js';
import { useRunbooks } from '../store/runbooks-store.js';
import { planFit } from './plan.js';
import { formatDuration, levelTargetText, plannedMs } from '../../preload/contract/index.js';

/** The connection's runbooks: level, step count, and the plan against seed 003's target for the level. */
export function RunbookList() {
  const runbooks = useRunbooks(useShallow((s) => s.runbooks));
  const selectedId = useRunbooks((s) => s.selectedId);
  const loaded = useRunbooks((s) => s.loaded);
  const error = useRunbooks((s) => s.error);
  const listRef = useRef<HTMLUListElement>(null);

  const onKeyDown = (e: KeyboardEvent<HTMLUListElement>) => {
    const moves: Record<string, number> = { ArrowDown: 1, j: 1, ArrowUp: -1, k: -1 };
    const delta = moves[e.key];
    if (delta === undefined || runbooks.length === 0) return;
    e.preventDefault();
    const i = runbooks.findIndex((r) => r.id === selectedId);
    const next = Math.min(Math.max(i + delta, 0), runbooks.length - 1);
    useRunbooks.getState().select(runbooks[next]!.id);
    listRef.current?.querySelectorAll<HTMLElement>('[data-testid="runbook-row"]')[next]?.focus();
  };

  return (
    <nav className="runbook-list" aria-label="Runbooks">
      <div className="panel-title">
        <h2 tabIndex={-1} data-view-heading>
          Runbooks
        </h2>
        <span className="muted" data-testid="runbooks-count">
          {loaded ? runbooks.length : '…'}
        </span>
        <span className="topbar-spacer" />
        <button type="button" className="btn btn-small" onClick={() => useRunbooks.getState().editNew()} data-testid="runbook-new">
          + New
        </button>
      </div>
      {error ? <ErrorNotice error={error} onReload={() => void useRunbooks.getState().load()} testId="runbooks-error" /> : null}
      {loaded && runbooks.length === 0 ? <p className="muted">No runbook on this connection yet. Write one, or import a YAML or JSON file.</p> : null}
      <ul ref={listRef} className="plain-list runbook-rows" onKeyDown={onKeyDown}>
        {runbooks.map((r) => {
          const planned = plannedMs(r.runbook);
          const fit = planFit(planned, r.level);
          const selected = r.id === selectedId;
          return (
            <li key={r.id}>
              <button
                type="button"
                className={selected ? 'row-button runbook-row is-selected' : 'row-button runbook-row'}
                aria-current={selected ? 'true' : undefined}
                tabIndex={selected || (selectedId === null && r === runbooks[0]) ? 0 : -1}
                onClick={() => useRunbooks.getState().select(r.id)}
                data-testid="runbook-row"
                data-runbook-id={r.id}
                data-runbook-name={r.name}
              >
                <span className="runbook-row-top">
                  {r.level ? <StatusBadge status={`level-${r.level}`} label={r.level} testId="runbook-level" /> : null}
                  <span className="runbook-name">{r.name}</span>
                </span>
                <span className="runbook-row-bottom muted">
                  <span data-testid="runbook-steps">{r.runbook.steps.length} steps</span>
                  <span data-testid="runbook-plan" data-fit={fit ?? 'none'}>
                    plan {formatDuration(planned)}
                    {r.level ? ` · target ${levelTargetText(r.level)}` : ''}
                  </span>
                  {fit === 'over' ? <StatusBadge status="failed" label="over target" /> : null}
                </span>
              </button>
            </li>
          );
        })}
      </ul>
    </nav>
  );
}
