import { ErrorNotice } from '../shared/ErrorNotice.js';
import { GuardedButton } from '../shared/GuardedButton.js';
import { Progress } from '../shared/Progress.js';
import { StatusBadge } from '../shared/StatusBadge.js';
import { useConnections } from '../store/connections-store.js';
import { useInspector } from '../store/inspector-store.js';
import { selectRole } from '../store/selectors.js';
import { VersionPicker } from './VersionPicker.js';

/** Resume after the last good checkpoint, under a version whose compatibility is shown first. */
export function ResumePanel() {
  const versions = useInspector((s) => s.versions);
  const resume = useInspector((s) => s.resume);
  const c = resume.compat;
  const role = useConnections(selectRole);

  return (
    <section className="action-panel" aria-label="Resume" data-testid="resume-panel">
      <h3>Resume from checkpoint</h3>
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
          onClick={() => void useInspector.getState().resumeRun()}
          testId="resume-submit"
        >
          Resume{c?.resume_after_seq ? ` after #${c.resume_after_seq}` : ''}
        </GuardedButton>
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
