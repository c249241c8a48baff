import { useEffect } from 'react';
import { ErrorNotice } from '../shared/ErrorNotice.js';
import { StatusBadge } from '../shared/StatusBadge.js';
import { useConnections } from '../store/connections-store.js';
import { isOver, useRehearsal } from '../store/rehearsal-store.js';
import { useRunbooks, type RunbookTab } from '../store/runbooks-store.js';
import { selectActiveSession, selectSelectedConnection, selectSelectedRunbook } from '../store/selectors.js';
import { RehearsalHistory } from './RehearsalHistory.js';
import { RehearsalRun } from './RehearsalRun.js';
import { RehearseSetup } from './RehearseSetup.js';
import { RunbookEditor, exportRunbook } from './RunbookEditor.js';
import { RunbookList } from './RunbookList.js';
import { planFit } from './plan.js';
import { formatDuration, levelTargetText, plannedMs } from '../../preload/contract/index.js';

const TABS: { id: RunbookTab; title: string }[] = [
  { id: 'rehearse', title: 'Rehearse' },
  { id: 'history', title: 'History' },
  { id: 'edit', title: 'Edit' },
];

/** Runbooks of the connection: rehearse one with timers, read its history and reports, edit it. */
export function RunbooksView() {
  const runbook = useRunbooks(selectSelectedRunbook);
  const tab = useRunbooks((s) => s.tab);
  const loaded = useRunbooks((s) => s.loaded);
  const exportError = useRunbooks((s) => s.exportError);
  const editorRunbookId = useRunbooks((s) => s.editor.runbookId);
  const connection = useConnections(selectSelectedConnection);
  const session = useRehearsal((s) => selectActiveSession(s, connection?.id ?? null));
  const sessionRunbook = useRunbooks((s) => s.runbooks.find((r) => r.id === session?.runbook_id) ?? null);

  useEffect(() => {
    if (!loaded) void useRunbooks.getState().load();
    void useRehearsal.getState().loadScenarios();
  }, [loaded, connection?.id]);

  const openTab = (id: RunbookTab) => {
    if (id === 'edit' && runbook && editorRunbookId !== runbook.id) void useRunbooks.getState().editExisting(runbook.id);
    else useRunbooks.getState().setTab(id);
  };

  const planned = runbook ? plannedMs(runbook.runbook) : 0;
  const fit = runbook ? planFit(planned, runbook.level) : null;
  const showingSession = session !== null && tab === 'rehearse' && (runbook === null || session.runbook_id === runbook.id);

  return (
    <div className="runbooks-view" data-testid="runbooks-view">
      <RunbookList />
      <section className="runbook-detail" aria-label={runbook ? `Runbook ${runbook.name}` : 'Runbook'}>
        {session && !isOver(session) && !showingSession && tab !== 'edit' ? (
          <div className="banner-inline" role="status" data-testid="session-elsewhere">
            A rehearsal of <strong>{session.runbook_name}</strong> is {session.state.replace('_', ' ')}.{' '}
            <button type="button" className="btn btn-small" onClick={() => useRunbooks.getState().select(session.runbook_id, 'rehearse')}>
              Show it
            </button>
          </div>
        ) : null}
        {runbook && tab !== 'edit' ? (
          <header className="runbook-header">
            <div className="workflow-title">
              <h1 data-testid="runbook-title">{runbook.name}</h1>
              {runbook.level ? <StatusBadge status={`level-${runbook.level}`} label={runbook.level} /> : null}
              <span className="muted" data-testid="runbook-header-plan">
                {runbook.runbook.steps.length} steps · plan {formatDuration(planned)}
                {runbook.level ? ` · seed 003 target ${levelTargetText(runbook.level)}` : ''}
              </span>
              {fit === 'over' ? <StatusBadge status="failed" label="plan over target" /> : fit === 'within' ? <StatusBadge status="succeeded" label="plan within target" /> : null}
            </div>
            <p className="muted runbook-description">{runbook.runbook.description}</p>
            <div className="workflow-actions">
              <button type="button" className="btn" onClick={() => void exportRunbook(runbook.id, runbook.name, 'yaml')} data-testid="runbook-download-yaml">
                Export YAML
              </button>
              <button type="button" className="btn" onClick={() => void exportRunbook(runbook.id, runbook.name, 'json')} data-testid="runbook-download-json">
                Export JSON
              </button>
            </div>
          </header>
        ) : null}
        {exportError ? <ErrorNotice error={exportError} testId="runbook-export-error" /> : null}
        <nav className="tabs subtabs" aria-label="Runbook views">
          {TABS.map((t) => (
            <button
              key={t.id}
              type="button"
              className={tab === t.id ? 'tab is-current' : 'tab'}
              aria-current={tab === t.id ? 'page' : undefined}
              disabled={t.id !== 'edit' && !runbook}
              onClick={() => openTab(t.id)}
              data-testid={`runbook-tab-${t.id}`}
            >
              {t.title}
            </button>
          ))}
        </nav>
        <div className="runbook-body">
          {tab === 'edit' ? (
            <RunbookEditor />
          ) : !runbook || !connection ? (
            <div className="empty-state">
              <h2>Pick a runbook</h2>
              <p className="muted">Choose one on the left, or write a new one.</p>
            </div>
          ) : tab === 'history' ? (
            <RehearsalHistory runbook={runbook} />
          ) : showingSession ? (
            <RehearsalRun session={session} runbook={sessionRunbook} />
          ) : (
            <RehearseSetup key={runbook.id} runbook={runbook} connection={connection} />
          )}
        </div>
      </section>
    </div>
  );
}
