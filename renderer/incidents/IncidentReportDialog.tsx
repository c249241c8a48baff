import { ReportMarkdown } from '../runbooks/ReportMarkdown.js';
import { CopyButton } from '../shared/CopyButton.js';
import { Dialog } from '../shared/Dialog.js';
import { fileSafe } from '../shared/download.js';
import { ErrorNotice } from '../shared/ErrorNotice.js';
import { Progress } from '../shared/Progress.js';
import { useIncidentRecords } from '../store/incident-records-store.js';

const FIELDS = [
  { key: 'root_cause', label: 'Root cause' },
  { key: 'prevention', label: 'Preventing a recurrence' },
  { key: 'lessons', label: 'Lessons learned' },
] as const;

/**
 * An incident's post-incident report, written by the log (seed 003's template), with the fields only
 * people know editable beside it. A save states the revision it was based on: another person's save
 * in between is refused and shown, and this draft is kept to merge by hand.
 */
export function IncidentReportDialog() {
  const reportId = useIncidentRecords((s) => s.reportId);
  const report = useIncidentRecords((s) => s.report);
  const draft = useIncidentRecords((s) => s.draft);
  const loading = useIncidentRecords((s) => s.reportLoading);
  const saving = useIncidentRecords((s) => s.reportSaving);
  const error = useIncidentRecords((s) => s.reportError);
  const saved = useIncidentRecords((s) => s.reportSaved);
  if (!reportId) return null;
  const store = useIncidentRecords.getState();
  const name = `incident-${fileSafe(reportId)}.md`;
  const changed = report && draft ? FIELDS.some((f) => draft[f.key] !== report.fields[f.key]) : false;
  return (
    <Dialog title={`Post-incident report — ${reportId}`} onClose={() => store.closeReport()} testId="incident-report-dialog" wide>
      {loading ? <Progress label="Writing the report from the log…" /> : null}
      {error ? <ErrorNotice error={error} onReload={() => void store.openReport(reportId)} testId="incident-report-error" /> : null}
      {report && draft ? (
        <>
          <div className="form-actions report-actions">
            <CopyButton text={report.markdown} label="Copy Markdown" testId="incident-report-copy" />
            <button type="button" className="btn btn-primary" onClick={() => void store.exportReport(name)} data-autofocus data-testid="incident-report-download">
              Save .md…
            </button>
            {saved ? (
              <span className="muted" role="status" data-testid="incident-report-saved">
                {saved.path ? `Saved to ${saved.path}` : `Downloaded as ${name}`}
              </span>
            ) : null}
          </div>
          <form
            className="incident-report-fields"
            aria-label="What only people know"
            onSubmit={(e) => {
              e.preventDefault();
              void store.saveFields();
            }}
          >
            {FIELDS.map((f) => (
              <label key={f.key} className="field">
                <span>{f.label}</span>
                <textarea rows={3} value={draft[f.key]} onChange={(e) => store.edit(f.key, e.target.value)} data-testid={`incident-report-${f.key}`} />
              </label>
            ))}
            <div className="form-actions">
              <button type="submit" className="btn" disabled={!changed || saving} data-testid="incident-report-save">
                {saving ? 'Saving…' : 'Save fields'}
              </button>
              <span className="muted" data-testid="incident-report-revision">
                revision {report.revision}
                {report.edited_by ? ` · last edited by ${report.edited_by}` : ''}
              </span>
            </div>
          </form>
          <article className="report-rendered" tabIndex={0} aria-label="Report" data-testid="incident-report-text">
            <ReportMarkdown markdown={report.markdown} />
          </article>
        </>
      ) : null}
    </Dialog>
  );
}
