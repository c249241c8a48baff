import { IncidentReportDialog } from './incidents/IncidentReportDialog.js';
import { RollbackPlanDialog } from './incidents/RollbackPlanDialog.js';
import { useEffect, useSyncExternalStore } from 'react';
import { getTransportState, onTransportState } from './api/client.js';
import type { TransportState } from './api/web-bridge.js';
import { ApprovalConfirmDialog } from './approvals/ApprovalConfirmDialog.js';
import { ReviewAnswerDialog } from './reviews/ReviewAnswerDialog.js';
import { AuditLog } from './audit/AuditLog.js';
import { AddConnectionDialog } from './connections/AddConnectionDialog.js';
import { RemoveConnectionDialog } from './connections/RemoveConnectionDialog.js';
import { SandboxLiveDialog } from './connections/SandboxLiveDialog.js';
import { ResetSandboxDialog } from './connections/ResetSandboxDialog.js';
import { ConnectionSwitcher } from './connections/ConnectionSwitcher.js';
import { IncidentHome } from './home/IncidentHome.js';
import { ViewMenu } from './layout/ViewMenu.js';
import { VIEWS } from './layout/views.js';
import { OpenSandboxDialog } from './connections/OpenSandboxDialog.js';
import { AlarmBanner } from './connections/AlarmBanner.js';
import { SnapshotBanner } from './connections/SnapshotBanner.js';
import { ArchiveBanner } from './connections/ArchiveBanner.js';
import { SnapshotDialog } from './connections/SnapshotDialog.js';
import { TokenDialog } from './connections/TokenDialog.js';
import { SignInDialog } from './connections/SignInDialog.js';
import { SignInAgain } from './connections/SignInAgain.js';
import { NewFromTemplateDialog } from './templates/NewFromTemplateDialog.js';
import { RunParamsDialog } from './runs/RunParamsDialog.js';
import { CommandPalette } from './palette/CommandPalette.js';
import { RollbackDialog } from './rollback/RollbackDialog.js';
import { ReportDialog } from './runbooks/ReportDialog.js';
import { PauseDialog } from './workflows/PauseDialog.js';
import { RunbooksView } from './runbooks/RunbooksView.js';
import { RunsView } from './runs/RunsView.js';
import { Toasts } from './shared/Toasts.js';
import { keepFocusOffBody } from './shared/focus.js';
import { useConnections } from './store/connections-store.js';
import { usePalette } from './store/palette-store.js';
import { selectSelectedConnection } from './store/selectors.js';
import { useUi } from './store/ui-store.js';
import { WorkflowList } from './workflows/WorkflowList.js';
import { WorkflowView } from './workflows/WorkflowView.js';

function useTransport(): TransportState {
  return useSyncExternalStore(onTransportState, getTransportState);
}

export function App() {
  const view = useUi((s) => s.view);
  const theme = useUi((s) => s.theme);
  const addOpen = useUi((s) => s.addConnectionOpen);
  const connectionDialog = useUi((s) => s.connectionDialog);
  const connection = useConnections(selectSelectedConnection);
  const transport = useTransport();

  useEffect(() => {
    document.documentElement.dataset.theme = theme;
  }, [theme]);

  useEffect(() => {
    const query = window.matchMedia?.('(prefers-color-scheme: light)');
    const onChange = () => useUi.getState().systemThemeChanged();
    query?.addEventListener('change', onChange);
    return () => query?.removeEventListener('change', onChange);
  }, []);

  useEffect(() => {
    // Set through the CSSOM, which the CSP allows (a style attribute in markup it would not).
    document.documentElement.style.setProperty('--conn-color', connection?.color ?? '#5b6472');
    document.documentElement.dataset.environment = connection?.environment ?? 'sandbox';
  }, [connection?.color, connection?.environment]);

  useEffect(() => keepFocusOffBody(), []);

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if ((e.ctrlKey || e.metaKey) && e.key.toLowerCase() === 'k') {
        e.preventDefault();
        const p = usePalette.getState();
        if (p.open) p.hide();
        else p.show();
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);

  return (
    <div className="app">
      <header className="topbar">
        <span className="brand" aria-label="Rewind">
          ⟲ Rewind
        </span>
        <ConnectionSwitcher />
        <nav className="tabs" aria-label="Views">
          {VIEWS.map((v) => (
            <button
              key={v.id}
              type="button"
              className={view === v.id ? 'tab is-current' : 'tab'}
              aria-current={view === v.id ? 'page' : undefined}
              onClick={() => useUi.getState().setView(v.id)}
              data-testid={`nav-${v.id}`}
            >
              {v.title}
            </button>
          ))}
        </nav>
        <ViewMenu />
        <span className="topbar-spacer" />
        <button type="button" className="btn btn-ghost" onClick={() => usePalette.getState().show()} data-testid="palette-open" aria-keyshortcuts="Control+K Meta+K">
          <span className="palette-open-label">Commands</span> <kbd>Ctrl K</kbd>
        </button>
        <button type="button" className="btn btn-ghost" onClick={() => useUi.getState().toggleTheme()} data-testid="theme-toggle" aria-label={`Switch to ${theme === 'dark' ? 'light' : 'dark'} theme`}>
          {theme === 'dark' ? '☀' : '☾'}
        </button>
      </header>
      {transport === 'open' ? null : (
        <div className="banner" role="status" data-testid="transport-banner">
          {transport === 'connecting' ? 'Connecting to the console…' : 'Connection lost — reconnecting. What you see may be out of date.'}
        </div>
      )}
      {connection?.detail ? (
        <div className="banner banner-error" role="alert" data-testid="connection-detail">
          <strong>{connection.name}:</strong> {connection.detail}
          <SignInAgain connection={connection} />
        </div>
      ) : null}
      <AlarmBanner />
      <SnapshotBanner />
      <ArchiveBanner />
      <div className="body">
        <aside className="sidebar">
          <WorkflowList />
        </aside>
        <main className="main" id="main">
          {view === 'home' ? <IncidentHome /> : view === 'workflows' ? <WorkflowView /> : view === 'runs' ? <RunsView /> : view === 'runbooks' ? <RunbooksView /> : <AuditLog />}
        </main>
      </div>
      <RollbackDialog />
      <ApprovalConfirmDialog />
      <ReviewAnswerDialog />
      <NewFromTemplateDialog />
      <RunParamsDialog />
      <CommandPalette />
      {addOpen ? <AddConnectionDialog /> : null}
      {connectionDialog === 'snapshot' ? <SnapshotDialog /> : null}
      {connectionDialog === 'openSandbox' ? <OpenSandboxDialog /> : null}
      {connectionDialog === 'token' ? <TokenDialog /> : null}
      {connectionDialog === 'signIn' ? <SignInDialog /> : null}
      {connectionDialog === 'sandboxLive' ? <SandboxLiveDialog /> : null}
      {connectionDialog === 'resetSandbox' ? <ResetSandboxDialog /> : null}
      {connectionDialog === 'remove' ? <RemoveConnectionDialog /> : null}
      <ReportDialog />
      <IncidentReportDialog />
      <RollbackPlanDialog />
      <PauseDialog />
      <Toasts />
    </div>
  );
}
