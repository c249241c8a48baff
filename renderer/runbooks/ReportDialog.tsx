import { CopyButton } from '../shared/CopyButton.js';
import { Dialog } from '../shared/Dialog.js';
import { downloadText, fileSafe } from '../shared/download.js';
import { ErrorNotice } from '../shared/ErrorNotice.js';
import { Progress } from '../shared/Progress.js';
import { useHistory } from '../store/history-store.js';

/** A rehearsal's post-incident report (seed 003's template) as Markdown text, to copy or save. */
export function ReportDialog() {
  const reportId = useHistory((s) => s.reportId);
  const markdown = useHistory((s) => s.markdown);
  const loading = useHistory((s) => s.reportLoading);
  const error = useHistory((s) => s.reportError);
  const rehearsal = useHistory((s) => s.rehearsals.find((r) => r.id === s.reportId) ?? null);
  if (!reportId) return null;
  const close = () => useHistory.getState().closeReport();
  const name = `report-${fileSafe(rehearsal?.runbook_name ?? 'rehearsal')}-${(rehearsal?.started_at ?? '').slice(0, 10) || reportId}.md`;

  return (
    <Dialog title={`Report${rehearsal ? ` — ${rehearsal.runbook_name}` : ''}`} onClose={close} testId="report-dialog" wide>
      {loading ? <Progress label="Writing the report…" /> : null}
      {error ? <ErrorNotice error={error} onReload={() => void useHistory.getState().openReport(reportId)} testId="report-error" /> : null}
      {markdown !== null ? (
        <>
          <div className="form-actions report-actions">
            <CopyButton text={markdown} label="Copy Markdown" testId="report-copy" />
            <button type="button" className="btn btn-primary" onClick={() => downloadText(name, markdown, 'text/markdown')} data-autofocus data-testid="report-download">
              Download .md
            </button>
          </div>
          <pre className="report-text" tabIndex={0} aria-label="Report (Markdown)" data-testid="report-text">
            {markdown}
          </pre>
        </>
      ) : null}
    </Dialog>
  );
}
