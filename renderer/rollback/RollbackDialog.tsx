import { useEffect } from 'react';
import { DiffSummary } from '../diff/DiffSummary.js';
import { DslSideBySide } from '../diff/DslSideBySide.js';
import { Dialog } from '../shared/Dialog.js';
import { ErrorNotice } from '../shared/ErrorNotice.js';
import { Progress } from '../shared/Progress.js';
import { StatusBadge } from '../shared/StatusBadge.js';
import { confirmationMet, needsVersionTyped, rollbackWording, targetIsBad, useRollback } from '../store/rollback-store.js';
import { selectIsProduction, selectSnapshotTakenAt } from '../store/selectors.js';
import { useConnections } from '../store/connections-store.js';
import { useInspector } from '../store/inspector-store.js';
import { useUi } from '../store/ui-store.js';
import { RunImpact } from './RunImpact.js';
import { SentForReview } from '../reviews/SentForReview.js';

/** "What happens if I roll back now?", then a typed confirmation, progress and the result. */
export function RollbackDialog() {
  const s = useRollback();
  const production = useConnections(selectIsProduction);
  const onCopy = useConnections(selectSnapshotTakenAt) !== null;
  useEffect(() => {
    // Focus follows the next step: the confirmation once the preview is in, Close once it is done.
    const target = s.phase === 'ready' ? 'rollback-confirm-name' : s.phase === 'done' ? 'rollback-done' : null;
    if (target) document.querySelector<HTMLElement>(`[data-testid="${target}"]`)?.focus();
  }, [s.phase]);
  if (s.phase === 'closed') return null;
  const { workflowId, version } = s;
  // Back to the row acted on: the home's incident, else the timeline's version row.
  const returnFocus = () =>
    document.querySelector<HTMLElement>(`[data-testid="incident-action"][data-workflow-id="${workflowId}"]:not([disabled])`) ??
    document.querySelector<HTMLElement>(`[data-testid="timeline-version"][data-version="${version}"] [data-primary]`);
  const p = s.preview;
  const wording = p ? rollbackWording(p) : null;
  const title = wording?.title ?? `Roll back to v${s.version ?? '?'}`;
  const canSubmit = s.phase === 'ready' && confirmationMet(s, production);
  const bad = targetIsBad(p);
  const askVersion = needsVersionTyped(p, production);

  const openRun = (runId: string) => {
    s.close();
    useUi.getState().setView('runs');
    void useInspector.getState().open(runId);
  };

  return (
    <Dialog title={title} onClose={s.close} testId="rollback-dialog" wide returnFocus={returnFocus}>
      {s.phase === 'loading' ? <Progress label="Loading the preview…" testId="rollback-loading" /> : null}

      {p && s.phase !== 'done' ? (
        <div className="rollback-preview" data-testid="rollback-preview">
          <p>
            Active now: <strong>{p.from_version === null ? 'none' : `v${p.from_version}`}</strong> → after the rollback:{' '}
            <strong>v{p.to_version}</strong>. New runs use v{p.to_version}; runs already started stay on their version.
          </p>
          {p.refusal ? <ErrorNotice error={p.refusal} testId="rollback-refusal" /> : null}
          {bad && !p.refusal ? (
            <div className="rollback-target-warning" role="alert" data-testid="rollback-target-warning">
              <strong>v{p.to_version} is marked bad.</strong> {p.target_health?.reason} Making it active again sends new runs to it: type its version number below
              to confirm you mean it.
            </div>
          ) : null}
          {p.diff ? <DiffSummary diff={p.diff} /> : null}
          {s.fromVersion && s.toVersion ? (
            <details className="rollback-dsl">
              <summary>DSL v{s.fromVersion.version} beside v{s.toVersion.version}</summary>
              <DslSideBySide before={s.fromVersion.dsl_definition} after={s.toVersion.dsl_definition} beforeLabel={`v${s.fromVersion.version} (active)`} afterLabel={`v${s.toVersion.version}`} />
            </details>
          ) : null}
          <RunImpact preview={p} onOpenRun={openRun} />
        </div>
      ) : null}

      {s.phase === 'ready' || s.phase === 'submitting' || (s.phase === 'failed' && p) ? (
        <form
          className="form confirm-form"
          onSubmit={(e) => {
            e.preventDefault();
            void s.submit(production);
          }}
        >
          {production ? (
            <p className="production-warning" data-testid="rollback-production-warning">
              <StatusBadge status="production" label="PRODUCTION" /> This changes what a production server runs.
            </p>
          ) : null}
          <label>
            <span>
              Type the workflow name <strong className="mono">{p?.workflow_name}</strong> to confirm
            </span>
            <input
              className="input"
              value={s.confirmName}
              onChange={(e) => s.setConfirmName(e.target.value)}
              autoComplete="off"
              spellCheck={false}
              data-autofocus
              disabled={s.phase !== 'ready'}
              data-testid="rollback-confirm-name"
            />
          </label>
          {askVersion ? (
            <label>
              <span>
                and the target version <strong className="mono">v{p?.to_version}</strong>
                {bad ? ' (marked bad)' : ''}
              </span>
              <input
                className="input"
                value={s.confirmVersion}
                onChange={(e) => s.setConfirmVersion(e.target.value)}
                autoComplete="off"
                spellCheck={false}
                disabled={s.phase !== 'ready'}
                data-testid="rollback-confirm-version"
              />
            </label>
          ) : null}
          <div className="form-actions">
            <button type="button" className="btn" onClick={s.close}>
              Cancel
            </button>
            <button type="submit" className="btn btn-danger" disabled={!canSubmit} data-testid="rollback-submit">
              {wording?.action ?? `Roll back to v${s.version ?? '?'}`}
              {onCopy ? ' on this copy' : ''}
            </button>
          </div>
        </form>
      ) : null}

      {s.phase === 'submitting' ? <Progress label="Rolling back…" testId="rollback-progress" /> : null}
      {s.phase === 'failed' && s.error ? <ErrorNotice error={s.error} onReload={() => void s.reload()} focusOnMount testId="rollback-error" /> : null}

      {s.phase === 'done' && s.sentForReview ? <SentForReview sent={s.sentForReview} onClose={s.close} /> : null}

      {s.phase === 'done' && s.result ? (
        <div className="rollback-result" role="status" data-testid="rollback-result">
          <p>
            <StatusBadge status="succeeded" label="done" /> {s.result.message}
          </p>
          <p className="muted">
            v{s.result.from_version ?? '—'} → v{s.result.version} · event #{s.result.seq} · revision {s.result.revision}
          </p>
          {p && p.resumable.some((r) => r.compatibility.compatible) ? (
            <p>Failed runs that can now resume on v{s.result.version}:</p>
          ) : null}
          {p ? <RunImpact preview={p} onOpenRun={openRun} resumableOnly resumes={s.resumes} onResume={(runId) => void s.resumeRun(runId)} /> : null}
          <div className="form-actions">
            <button type="button" className="btn btn-primary" onClick={s.close} data-autofocus data-testid="rollback-done">
              Close
            </button>
          </div>
        </div>
      ) : null}
    </Dialog>
  );
}
