import { Dialog } from '../shared/Dialog.js';
import { ErrorNotice } from '../shared/ErrorNotice.js';
import { useWorkflows } from '../store/workflows-store.js';

/** Pausing asks first — it stops new runs and schedules — and the toast after it offers Undo. */
export function PauseDialog() {
  const asked = useWorkflows((s) => s.workflows.find((w) => w.id === s.pauseAsked) ?? null);
  const busy = useWorkflows((s) => s.busy);
  const error = useWorkflows((s) => s.actionError);
  if (!asked) return null;
  const close = () => useWorkflows.getState().cancelPause();
  return (
    <Dialog
      title={`Pause ${asked.name}?`}
      onClose={close}
      testId="pause-dialog"
      returnFocus={() => document.querySelector<HTMLElement>('[data-testid="workflow-pause-toggle"]')}
    >
      <div className="form">
        <p>
          No new run of <strong>{asked.name}</strong> starts while it is paused, scheduled ones included; runs under way finish. You can undo it for a few seconds after, or unpause it any time.
        </p>
        {error ? <ErrorNotice error={error} testId="pause-error" /> : null}
        <div className="form-actions">
          <button type="button" className="btn" onClick={close}>
            Cancel
          </button>
          <button type="button" className="btn btn-warn" disabled={busy} onClick={() => void useWorkflows.getState().confirmPause()} data-autofocus data-testid="pause-confirm">
            Pause
          </button>
        </div>
      </div>
    </Dialog>
  );
}
