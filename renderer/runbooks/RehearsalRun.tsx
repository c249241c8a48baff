import { useEffect, useRef, useState, type KeyboardEvent } from 'react';
import type { RehearsalSession, RunbookStep, StoredRunbook } from '../../preload/contract/index.js';
import { Dialog } from '../shared/Dialog.js';
import { focusIsParked } from '../shared/focus.js';
import { ErrorNotice } from '../shared/ErrorNotice.js';
import { Progress } from '../shared/Progress.js';
import { StatusBadge } from '../shared/StatusBadge.js';
import { useNow } from '../shared/use-now.js';
import { useHistory } from '../store/history-store.js';
import { isOver, useRehearsal } from '../store/rehearsal-store.js';
import { formatClock, paceLabel } from './plan.js';
import { formatDuration, plannedMs } from '../../preload/contract/index.js';

function describeStep(step: RunbookStep): string {
  switch (step.kind) {
    case 'action': {
      const a = step.action;
      if (a.type === 'rollback') return `roll ${a.workflow} back to ${a.to === 'previous' ? 'the previous version' : `v${a.to}`}`;
      if (a.type === 'resume_run') return `resume the latest failed run of ${a.workflow}`;
      if (a.type === 'start_run') return `start a run of ${a.workflow}`;
      return `${a.type} ${a.workflow}`;
    }
    case 'health_check':
      return step.check.type === 'http' || step.check.type === 'metrics' ? `check ${step.check.url}` : `check ${step.check.workflow}`;
    case 'wait':
      return step.ms !== undefined ? `wait ${formatDuration(step.ms)}` : `wait until the check passes (at most ${formatDuration(step.timeout_ms ?? 0)})`;
    case 'note':
      return step.text;
    case 'checklist':
      return `${step.items.length} items to confirm`;
  }
}

/** What the operator's go does at a step: the action itself, the check, the note read, the checklist done. */
function goLabel(step: RunbookStep): string {
  switch (step.kind) {
    case 'action':
      return 'Do it';
    case 'health_check':
      return 'Check now';
    case 'note':
      return 'Read — go on';
    default:
      return 'Confirm';
  }
}

/** A rehearsal under way or just finished: where the operator is, what is next, the timers, and the confirmations. */
export function RehearsalRun({ session, runbook }: { session: RehearsalSession; runbook: StoredRunbook | null }) {
  const clock = useRehearsal((s) => s.clocks[session.session_id]);
  const answering = useRehearsal((s) => s.answering);
  const error = useRehearsal((s) => s.error);
  const stored = useHistory((s) => s.rehearsals.find((r) => r.id === session.rehearsal_id) ?? null);
  const over = isOver(session);
  const now = useNow(!over);
  const [abortOpen, setAbortOpen] = useState(false);
  const confirmRef = useRef<HTMLButtonElement>(null);
  const runRef = useRef<HTMLElement>(null);
  const steps = runbook?.runbook.steps ?? [];
  const planned = runbook ? plannedMs(runbook.runbook) : null;
  const awaiting = session.state === 'awaiting_confirmation';
  const current = session.current_index !== null ? steps[session.current_index - 1] : undefined;
  const doneMs = session.steps.reduce((sum, s) => sum + s.duration_ms, 0);
  const elapsed = over ? doneMs : clock?.runningSince != null ? now - clock.runningSince : 0;
  const stepElapsed = clock && !over ? now - clock.since : 0;

  useEffect(() => {
    // Started from the form that is gone now: the rehearsal itself takes the focus (its Enter answers a confirmation).
    if (focusIsParked()) runRef.current?.focus();
  }, []);

  useEffect(() => {
    // The confirmation takes the focus, so Enter answers it.
    if (awaiting) confirmRef.current?.focus();
  }, [awaiting, session.current_index]);

  const onKeyDown = (e: KeyboardEvent<HTMLElement>) => {
    if (e.key !== 'Enter' || !awaiting) return;
    const t = e.target as HTMLElement;
    if (t.closest('button, input, select, textarea, a')) return;
    e.preventDefault();
    void useRehearsal.getState().confirm(true);
  };

  const openReport = () => {
    if (session.rehearsal_id) void useHistory.getState().openReport(session.rehearsal_id);
  };

  return (
    <section
      ref={runRef}
      tabIndex={-1}
      className="rehearsal-run focus-target"
      aria-label={`Rehearsal of ${session.runbook_name}`}
      onKeyDown={onKeyDown}
      data-testid="rehearsal-run"
      data-state={session.state}
      data-session-id={session.session_id}
    >
      <header className="rehearsal-header">
        {session.mode === 'live' ? <StatusBadge status="production" label="LIVE" testId="rehearsal-live" /> : null}
        {session.pace ? <StatusBadge status={session.pace === 'paced' ? 'running' : 'deprecated'} label={paceLabel(session.pace)} testId="rehearsal-pace" /> : null}
        <StatusBadge status={session.state === 'finished' ? (session.passed ? 'succeeded' : 'failed') : session.state === 'aborted' ? 'failed' : 'running'} label={session.state.replace('_', ' ')} testId="rehearsal-state" />
        {session.scenario ? <span className="muted">scenario {session.scenario}</span> : null}
        <span className="topbar-spacer" />
        <span className="rehearsal-clock" aria-label="Time to recover so far">
          <span className="clock mono" data-testid="rehearsal-elapsed">
            {formatClock(elapsed)}
          </span>
          {planned !== null ? <span className="muted"> / plan {formatDuration(planned)}</span> : null}
        </span>
        {!over ? (
          <button type="button" className="btn btn-danger" disabled={answering} onClick={() => setAbortOpen(true)} data-testid="rehearsal-abort">
            Abort…
          </button>
        ) : null}
      </header>

      {session.state === 'setting_up' ? <Progress label={`Setting up the incident${session.scenario ? ` (${session.scenario})` : ''}…`} testId="rehearsal-setting-up" /> : null}

      {!over && session.current_index !== null ? (
        <p className="rehearsal-now" aria-live="polite" data-testid="rehearsal-now">
          Now: <strong>step {session.current_index}</strong> {current?.title ?? ''}
          {session.next_title ? (
            <span className="muted" data-testid="rehearsal-next">
              {' '}
              · Next: {session.next_title}
            </span>
          ) : (
            <span className="muted"> · last step</span>
          )}
        </p>
      ) : null}

      <ol className="step-list">
        {steps.map((step, i) => {
          const index = i + 1;
          const record = session.steps.find((s) => s.index === index);
          const isCurrent = !over && session.current_index === index;
          const state = record ? record.outcome : isCurrent ? (awaiting ? 'awaiting' : 'current') : 'pending';
          const overPlan = isCurrent && stepElapsed > step.expected_ms;
          return (
            <li key={index} className={isCurrent ? 'step-item is-current' : 'step-item'} data-testid="rehearsal-step" data-state={state} aria-current={isCurrent ? 'step' : undefined}>
              <span className="step-index">{index}</span>
              <span className="step-kind muted">{step.kind.replace('_', ' ')}</span>
              <span className="step-title">
                {step.title}
                <span className="muted step-what"> — {describeStep(step)}</span>
                {record?.detail ? <span className="step-detail muted">{record.detail}</span> : null}
              </span>
              <span className={overPlan ? 'step-time is-over' : 'step-time'}>
                {record ? (
                  <>
                    <StatusBadge status={record.outcome === 'passed' ? 'succeeded' : record.outcome === 'failed' ? 'failed' : 'deprecated'} label={record.outcome} testId="step-outcome" />{' '}
                    <span className="mono">{formatDuration(record.duration_ms)}</span>
                  </>
                ) : isCurrent ? (
                  <span className="mono clock" data-testid="step-timer">
                    {formatClock(stepElapsed)}
                  </span>
                ) : null}
                <span className="muted"> / {formatDuration(step.expected_ms)}</span>
              </span>
              {isCurrent && awaiting ? (
                <div className="confirm-box" data-testid="rehearsal-confirmation">
                  {step.kind === 'checklist' ? (
                    <ul className="checklist">
                      {step.items.map((item) => (
                        <li key={item} data-testid="checklist-item">
                          <label className="inline-label">
                            <input type="checkbox" />
                            {item}
                          </label>
                        </li>
                      ))}
                    </ul>
                  ) : step.kind === 'note' ? (
                    <p>Read it, then go on: {describeStep(step)}</p>
                  ) : (
                    <p>
                      Run this step against <strong>{session.mode === 'live' ? 'the live server' : 'the sandbox'}</strong>: {describeStep(step)}?
                    </p>
                  )}
                  <div className="form-actions">
                    <button type="button" className="btn" disabled={answering} onClick={() => void useRehearsal.getState().confirm(false)} data-testid="rehearsal-decline">
                      Not done (fail the step)
                    </button>
                    <button ref={confirmRef} type="button" className="btn btn-primary" disabled={answering} onClick={() => void useRehearsal.getState().confirm(true)} data-testid="rehearsal-confirm" aria-keyshortcuts="Enter">
                      {goLabel(step)} <kbd>Enter</kbd>
                    </button>
                  </div>
                </div>
              ) : null}
            </li>
          );
        })}
      </ol>

      {error ? <ErrorNotice error={error} testId="rehearsal-error" /> : null}

      {over ? (
        <div className="rehearsal-result" role="status" data-testid="rehearsal-result" data-passed={session.passed ? 'true' : 'false'}>
          <p>
            <StatusBadge status={session.passed ? 'succeeded' : 'failed'} label={session.passed ? 'PASSED' : session.state === 'aborted' ? 'ABORTED' : 'FAILED'} testId="rehearsal-verdict" />{' '}
            Time to recover <strong data-testid="rehearsal-total">{formatDuration(stored?.total_ms ?? doneMs)}</strong>
            {planned !== null ? <span className="muted"> (plan {formatDuration(planned)})</span> : null}
          </p>
          {session.pace === 'automatic' ? (
            <p className="muted" data-testid="rehearsal-automatic-note">
              Automatic (CI): the steps ran by themselves, so this times the machine, not an operator. Rehearse paced to time yourself.
            </p>
          ) : null}
          {session.detail ? <p className="muted">{session.detail}</p> : null}
          <div className="form-actions">
            <button type="button" className="btn" onClick={() => useRehearsal.getState().dismiss()} data-testid="rehearsal-again">
              Rehearse again
            </button>
            {session.rehearsal_id ? (
              <button type="button" className="btn btn-primary" onClick={openReport} data-testid="rehearsal-report">
                Open the report
              </button>
            ) : null}
          </div>
        </div>
      ) : null}

      {abortOpen ? (
        <Dialog title="Abort the rehearsal?" onClose={() => setAbortOpen(false)} testId="abort-dialog">
          <p>What ran so far is kept and the rehearsal is marked failed. Changes already made {session.mode === 'live' ? 'to the server' : 'to the sandbox'} stay as they are.</p>
          <div className="form-actions">
            <button type="button" className="btn" onClick={() => setAbortOpen(false)} data-autofocus>
              Keep going
            </button>
            <button
              type="button"
              className="btn btn-danger"
              onClick={() => {
                setAbortOpen(false);
                void useRehearsal.getState().abort();
              }}
              data-testid="abort-confirm"
            >
              Abort
            </button>
          </div>
        </Dialog>
      ) : null}
    </section>
  );
}
