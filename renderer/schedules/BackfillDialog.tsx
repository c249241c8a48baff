import { type FormEvent, useEffect, useId, useRef } from 'react';
import type { Workflow } from '../../preload/contract/index.js';
import { Dialog } from '../shared/Dialog.js';
import { ErrorNotice } from '../shared/ErrorNotice.js';
import { Progress } from '../shared/Progress.js';
import { useSchedule } from '../store/schedule-store.js';

const utc = (iso: string) => iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z');
/** A date-time input holds `YYYY-MM-DDTHH:mm` with no zone; the dialog reads it as UTC, as it says. */
const fromInput = (value: string) => (value ? `${value}:00Z` : '');
const toInput = (iso: string) => iso.slice(0, 16);

/** Why "List the ticks" cannot run yet, or null when it can (a range the server refuses is answered with its hint). */
export function backfillRangeProblem(from: string, to: string): string | null {
  if (!from && !to) return 'Pick a From and a To date and time first.';
  if (!from) return 'Pick a From date and time first.';
  if (!to) return 'Pick a To date and time first.';
  return null;
}

/**
 * Backfill: pick [from, to), see every tick it covers (and those that ran already) first, then start
 * them — the start button exists only for the range previewed.
 */
export function BackfillDialog({ workflow }: { workflow: Workflow }) {
  const from = useSchedule((s) => s.from);
  const to = useSchedule((s) => s.to);
  const maxConcurrent = useSchedule((s) => s.maxConcurrent);
  const preview = useSchedule((s) => s.preview);
  const previewing = useSchedule((s) => s.previewing);
  const starting = useSchedule((s) => s.starting);
  const result = useSchedule((s) => s.result);
  const error = useSchedule((s) => s.error);
  const store = useSchedule.getState;
  const already = new Set(preview?.already_run ?? []);
  const toStart = preview ? preview.ticks.length - already.size : 0;
  const problem = backfillRangeProblem(from, to);
  const problemId = useId();
  const confirmRef = useRef<HTMLButtonElement>(null);
  const cancelRef = useRef<HTMLButtonElement>(null);
  // The list button is disabled while it works, which drops focus: hand it to the next step (Esc still closes).
  useEffect(() => {
    if (preview) (confirmRef.current?.disabled ? cancelRef.current : confirmRef.current)?.focus();
  }, [preview]);

  const submit = (e: FormEvent) => {
    e.preventDefault();
    void store().previewBackfill(workflow.id);
  };

  return (
    <Dialog title={`Backfill ${workflow.name}`} onClose={() => store().closeBackfill()} testId="backfill-dialog" wide>
      <form className="form" onSubmit={submit}>
        <p className="muted">
          One run (trigger “backfill”) per tick of <span className="mono">{workflow.schedule}</span> from <em>from</em> (included) to <em>to</em> (excluded), UTC. Ticks that ran
          already are left alone.
        </p>
        <label>
          From
          <input type="datetime-local" className="input" value={toInput(from)} onChange={(e) => store().setRange({ from: fromInput(e.target.value) })} data-autofocus data-testid="backfill-from" />
        </label>
        <label>
          To
          <input type="datetime-local" className="input" value={toInput(to)} onChange={(e) => store().setRange({ to: fromInput(e.target.value) })} data-testid="backfill-to" />
        </label>
        <label>
          At most in flight
          <input
            className="input"
            value={maxConcurrent}
            onChange={(e) => store().setMaxConcurrent(e.target.value)}
            placeholder="all at once"
            inputMode="numeric"
            title="1–1000: that many runs at once, each of the others starting as an earlier one ends"
            data-testid="backfill-max-concurrent"
          />
        </label>
        <div className="form-actions">
          <button type="submit" className="btn" disabled={previewing || problem !== null} aria-describedby={problem ? problemId : undefined} data-testid="backfill-preview">
            List the ticks
          </button>
          {problem ? (
            <span id={problemId} className="muted" data-testid="backfill-preview-reason">
              {problem}
            </span>
          ) : null}
        </div>
      </form>
      {previewing ? <Progress label="Listing the ticks…" /> : null}
      {preview && !result ? (
        <div className="form" data-testid="backfill-ticks">
          <p data-testid="backfill-summary">
            {preview.ticks.length} tick{preview.ticks.length === 1 ? '' : 's'} in range; {toStart} would start a run{already.size ? `, ${already.size} ran already` : ''}.
          </p>
          <ol className="backfill-tick-list">
            {preview.ticks.map((t) => (
              <li key={t} className="mono" data-testid="backfill-tick" data-already={already.has(t) ? 'true' : 'false'}>
                {utc(t)}
                {already.has(t) ? <span className="muted"> — ran already</span> : null}
              </li>
            ))}
          </ol>
          <div className="form-actions">
            <button type="button" className="btn" ref={cancelRef} onClick={() => store().closeBackfill()}>
              Cancel
            </button>
            <button
              type="button"
              className="btn btn-warn"
              ref={confirmRef}
              disabled={starting || toStart === 0}
              onClick={() => void store().startBackfill(workflow.id)}
              data-testid="backfill-confirm"
            >
              Start {toStart} run{toStart === 1 ? '' : 's'}
            </button>
          </div>
        </div>
      ) : null}
      {starting ? <Progress label="Starting the runs…" /> : null}
      {result ? (
        <div className="form">
          <p data-testid="backfill-result">
            Started {result.runs.length} backfill run{result.runs.length === 1 ? '' : 's'}
            {result.pending.length ? `; ${result.pending.length} pending, each starting as an earlier one ends (at most ${result.max_concurrent ?? result.runs.length} at once)` : ''}; they
            appear in Runs.
          </p>
          <div className="form-actions">
            <button type="button" className="btn" onClick={() => store().closeBackfill()} data-autofocus data-testid="backfill-done">
              Done
            </button>
          </div>
        </div>
      ) : null}
      {error ? <ErrorNotice error={error} testId="backfill-error" /> : null}
    </Dialog>
  );
}
