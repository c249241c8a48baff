import { CopyButton } from '../shared/CopyButton.js';
import { Dialog } from '../shared/Dialog.js';
import { fileSafe } from '../shared/download.js';
import { ErrorNotice } from '../shared/ErrorNotice.js';
import { Progress } from '../shared/Progress.js';
import { useHistory } from '../store/history-store.js';
import { ReportMarkdown } from './ReportMarkdown.js';

/**
 * A rehearsal's post-incident report (seed 003's template), rendered from its Markdown, tables
 * included (raw HTML in it is dropped, never rendered), to read, copy, or save as a file.
 */
export function ReportDialog() {
  const reportId = useHistory((s) => s.reportId);
  const markdown = useHistory((s) => s.markdown);
  const loading = useHistory((s) => s.reportLoading);
  const error = useHistory((s) => s.reportError);
  const saved = useHistory((s) => s.reportSaved);
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
            <button type="button" className="btn btn-primary" onClick={() => void useHistory.getState().saveReport(name)} data-autofocus data-testid="report-download">
              Save .md…
            </button>
            {saved ? (
              <span className="muted" role="status" data-testid="report-saved">
                {saved.path ? `Saved to ${saved.path}` : `Downloaded as ${name}`}
              </span>
            ) : null}
          </div>
          <article className="report-rendered" tabIndex={0} aria-label="Report" data-testid="report-text">
            <ReportMarkdown markdown={markdown} />
          </article>
        </>
      ) : null}
    </Dialog>
  );
}
