import { useState } from 'react';
import { ErrorNotice } from '../shared/ErrorNotice.js';
import { GuardedButton } from '../shared/GuardedButton.js';
import { Progress } from '../shared/Progress.js';
import { StatusBadge } from '../shared/StatusBadge.js';
import { useConnections } from '../store/connections-store.js';
import { useInspector } from '../store/inspector-store.js';
import { selectRole } from '../store/selectors.js';
import { VersionPicker } from './VersionPicker.js';

/**
 * Resume after the last good checkpoint, under a version whose compatibility is shown first. A run
 * resumed already shows its child instead: resuming it again is a deliberate, separate act.
 */
export function ResumePanel() {
  const versions = useInspector((s) => s.versions);
  const resume = useInspector((s) => s.resume);
  const resumedBy = useInspector((s) => s.resumedBy);
  const [again, setAgain] = useState(false);
  const c = resume.compat;
  const role = useConnections(selectRole);
  const child = resumedBy[0];

  if (child && !again) {
    return (
      <section className="action-panel" aria-label="Resume" data-testid="resume-panel" data-resumed="true">
        <h3>Resumed</h3>
        <div className="action-row">
          <span data-testid="resume-child-note">
            Resumed as{' '}
            <button type="button" className="btn btn-small mono" onClick={() => void useInspector.getState().open(child.run_id)} data-testid="resume-child">
              {child.run_id}
            </button>{' '}
            <StatusBadge status={child.status} /> <span className="muted">on v{child.version}</span>
          </span>
          <button
            type="button"
            className="btn btn-ghost"
            onClick={() => {
              setAgain(true);
              void useInspector.getState().setResumeVersion(resume.version ?? child.version);
            }}
            data-testid="resume-again-open"
          >
            Resume again…
          </button>
        </div>
        {resumedBy.length > 1 ? <p className="muted">Resumed {resumedBy.length} times.</p> : null}
      </section>
    );
  }

  return (
    <section className="action-panel" aria-label="Resume" data-testid="resume-panel" data-resumed={child ? 'again' : 'false'}>
      <h3>{child ? 'Resume again' : 'Resume from checkpoint'}</h3>
      {child ? (
        <p className="notice-warn" data-testid="resume-again-warning">
          This run was already resumed as <span className="mono">{child.run_id}</span>; resuming again runs the rest of it a second time.
        </p>
      ) : null}
      <div className="action-row">
        <VersionPicker
          versions={versions}
          value={resume.version}
          onChange={(v) => void useInspector.getState().setResumeVersion(v)}
          label="Under version"
          testId="resume-version"
        />
        {resume.compatLoading ? <Progress label="Checking compatibility…" /> : null}
        {c && !resume.compatLoading ? (
          <span data-testid="resume-compat" data-compatible={c.compatible}>
            {c.compatible ? <StatusBadge status="succeeded" label="compatible" /> : <StatusBadge status="failed" label="incompatible" />}{' '}
            <span className="muted">{c.reason}</span>
          </span>
        ) : null}
        <GuardedButton
          action="resume"
          role={role}
          className="btn btn-primary"
          disabled={!c?.compatible || resume.busy || resume.compatLoading}
          onClick={() => void useInspector.getState().resumeRun(child !== undefined)}
          testId="resume-submit"
        >
          {child ? 'Resume again' : 'Resume'}
          {c?.resume_after_seq ? ` after #${c.resume_after_seq}` : ''}
        </GuardedButton>
        {child ? (
          <button type="button" className="btn btn-ghost" onClick={() => setAgain(false)} data-testid="resume-again-cancel">
            Cancel
          </button>
        ) : null}
      </div>
      {c && !c.compatible && c.missing_nodes.length > 0 ? (
        <p className="muted" data-testid="resume-missing">
          Missing in v{c.version}: {c.missing_nodes.join(', ')}
        </p>
      ) : null}
      {resume.busy ? <Progress label="Resuming…" testId="resume-progress" /> : null}
      {resume.error ? <ErrorNotice error={resume.error} onDismiss={() => useInspector.getState().clearResumeError()} focusOnMount testId="resume-error" /> : null}
    </section>
  );
}
