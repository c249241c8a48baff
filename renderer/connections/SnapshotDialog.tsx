import { useEffect, type FormEvent } from 'react';
import { isBrowserMode } from '../api/client.js';
import { Dialog } from '../shared/Dialog.js';
import { connectionMenuButton } from './menu-focus.js';
import { ErrorNotice } from '../shared/ErrorNotice.js';
import { formatTime } from '../shared/format.js';
import { Progress } from '../shared/Progress.js';
import { useConnections } from '../store/connections-store.js';
import { selectSelectedConnection } from '../store/selectors.js';
import { defaultSnapshotPath, snapshotFolder, useSnapshot } from '../store/snapshot-store.js';
import { useUi } from '../store/ui-store.js';

const PHASE_TEXT: Record<string, string> = {
  workflows: 'Copying workflows',
  versions: 'Copying versions',
  events: 'Copying the event log',
  runs: 'Copying runs and their checkpoints',
  runbooks: 'Copying runbooks and their rehearsals',
  done: 'Finishing',
  failed: 'Stopped',
};

/**
 * Copies the selected server into a sandbox file, with its progress; a failed copy resumes when
 * started again. In browser mode the file is downloaded by the browser rather than named by a path.
 */
export function SnapshotDialog() {
  const connection = useConnections(selectSelectedConnection);
  const sandboxPath = useConnections((s) => s.connections.find((c) => c.kind === 'sandbox')?.url ?? null);
  const s = useSnapshot();
  const openError = useConnections((c) => c.dialogError);
  const close = () => useUi.getState().setConnectionDialog(null);
  const connectionId = connection?.id ?? null;
  const url = connection?.url ?? '';

  const browser = isBrowserMode();

  useEffect(() => {
    if (!connectionId) return;
    if (browser) useSnapshot.getState().prepare(connectionId, snapshotFolder(sandboxPath), true);
    else useSnapshot.getState().prepare(connectionId, defaultSnapshotPath(sandboxPath, url, new Date()));
  }, [connectionId, sandboxPath, url, browser]);

  if (!connection || connection.kind !== 'remote') {
    return (
      <Dialog title="Snapshot a server" onClose={close} returnFocus={connectionMenuButton} testId="snapshot-dialog">
        <p>Switch to a workflow server first: only a remote connection can be snapshotted.</p>
      </Dialog>
    );
  }

  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    void s.start();
  };
  const p = s.progress;
  const busy = s.phase === 'running';

  return (
    <Dialog title={`Snapshot ${connection.name}`} onClose={close} returnFocus={connectionMenuButton} testId="snapshot-dialog">
      <form className="form" onSubmit={onSubmit}>
        <p className="muted">
          Copies the workflows, every version, the event log and the newest runs with their checkpoints of <span className="mono">{connection.url}</span> into a sandbox file you can open
          offline.
        </p>
        {browser ? (
          <p className="muted" data-testid="snapshot-download-note">
            When it is complete this browser downloads it as a file; the console keeps its own copy, to open here.
          </p>
        ) : (
          <label>
            Sandbox file to write
            <input className="input mono" value={s.path} onChange={(e) => s.setPath(e.target.value)} disabled={busy} required spellCheck={false} data-autofocus data-testid="snapshot-path" />
          </label>
        )}
        <label>
          Newest runs to take
          <input className="input" type="number" min={1} max={100000} value={s.runs} onChange={(e) => s.setRuns(Math.max(1, Number(e.target.value) || 1))} disabled={busy} data-testid="snapshot-runs" />
        </label>
        {busy ? (
          <div className="snapshot-progress" role="status" aria-live="polite" data-testid="snapshot-progress" data-phase={p?.phase ?? 'starting'}>
            <span>
              {p ? PHASE_TEXT[p.phase] : 'Starting'}
              {p ? (
                <span className="muted" data-testid="snapshot-counts">
                  {' '}
                  · {p.done}
                  {p.total !== null ? ` / ${p.total}` : ''}
                </span>
              ) : null}
            </span>
            {p && p.total !== null && p.total > 0 ? (
              <progress className="bar" max={p.total} value={Math.min(p.done, p.total)} data-testid="snapshot-bar" />
            ) : (
              <Progress label={p?.detail ?? 'Working…'} />
            )}
          </div>
        ) : null}
        {s.phase === 'failed' && s.error ? (
          <>
            <ErrorNotice error={s.error} testId="snapshot-error" />
            <p className="muted">Start again with the same file: the snapshot resumes where it stopped.</p>
          </>
        ) : null}
        {s.phase === 'done' && s.result ? (
          <div className="rollback-result" role="status" data-testid="snapshot-result">
            <p>
              Snapshot of <span className="mono">{s.result.source_url}</span> taken at {formatTime(s.result.taken_at)}
              {s.result.resumed ? ' (resumed)' : ''}.
            </p>
            <p className="muted">
              {s.result.workflows} workflows · {s.result.versions} versions · {s.result.runs} runs · {s.result.checkpoints} checkpoints · {s.result.events} events · {s.result.runbooks} runbooks · {s.result.rehearsals} rehearsals
            </p>
            {browser ? (
              <p className="muted" data-testid="snapshot-downloaded">
                {s.downloaded ? `Downloaded as ${s.downloaded}.` : 'Preparing the download…'}
              </p>
            ) : (
              <p className="mono muted">{s.result.path}</p>
            )}
          </div>
        ) : null}
        {s.phase === 'done' && openError ? <ErrorNotice error={openError} testId="snapshot-open-error" /> : null}
        <div className="form-actions">
          <button type="button" className="btn" onClick={close}>
            {s.phase === 'done' ? 'Close' : busy ? 'Hide (keeps going)' : 'Cancel'}
          </button>
          {s.phase === 'done' && browser ? (
            <button type="button" className="btn" onClick={() => s.downloadResult()} data-testid="snapshot-download-again">
              Download again
            </button>
          ) : null}
          {s.phase === 'done' ? (
            <button
              type="button"
              className="btn btn-primary"
              onClick={() => void s.openResult().then((ok) => ok && close())}
              data-testid="snapshot-open"
            >
              Open the snapshot
            </button>
          ) : (
            <button type="submit" className="btn btn-primary" disabled={busy || (!browser && s.path.trim() === '')} data-autofocus={browser ? true : undefined} data-testid="snapshot-start">
              {s.phase === 'failed' ? 'Resume' : browser ? 'Download snapshot' : 'Take snapshot'}
            </button>
          )}
        </div>
      </form>
    </Dialog>
  );
}
