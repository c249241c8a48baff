import { useEffect, useRef, useState, type FormEvent } from 'react';
import type { ConnectionInfo, RehearsalPace, StoredRunbook } from '../../preload/contract/index.js';
import { ErrorNotice } from '../shared/ErrorNotice.js';
import { StatusBadge } from '../shared/StatusBadge.js';
import { useRehearsal } from '../store/rehearsal-store.js';
import { formatDuration, plannedMs } from '../../preload/contract/index.js';

/** Real ms per ms a wait step names; a sandbox rehearsal may fast-forward its waits. */
const TIME_SCALES: { value: number; label: string }[] = [
  { value: 1, label: 'real time' },
  { value: 0.1, label: '10× faster' },
  { value: 0.01, label: '100× faster' },
  { value: 0, label: 'instant' },
];

/** Before a rehearsal: the scenario (sandbox) or the LIVE warning (server), the steps, and Start. */
export function RehearseSetup({ runbook, connection }: { runbook: StoredRunbook; connection: ConnectionInfo }) {
  const scenarios = useRehearsal((s) => s.scenarios);
  const scenariosError = useRehearsal((s) => s.scenariosError);
  const starting = useRehearsal((s) => s.starting);
  const error = useRehearsal((s) => s.error);
  const live = connection.kind === 'remote';
  const [scenario, setScenario] = useState<string>(runbook.runbook.scenario ?? '');
  const [timeScale, setTimeScale] = useState(1);
  const [skip, setSkip] = useState<number[]>([]);
  const [typed, setTyped] = useState('');
  // Paced by default: a timed rehearsal measures the operator, not the machine.
  const [pace, setPace] = useState<RehearsalPace>('paced');
  const chosen = scenarios.find((s) => s.name === scenario) ?? null;
  const canStart = !starting && (!live || typed.trim() === runbook.name);
  const needsReset = error?.code === 'SCENARIO_NEEDS_RESET' && error.details?.resettable === true ? error : null;
  const onScratch = needsReset?.details?.scratch !== false;
  const resetRef = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    // The refusal's way out takes the focus (and scrolls into view): Enter resets and rehearses.
    if (needsReset) resetRef.current?.focus();
  }, [needsReset]);

  const start = (resetFirst: boolean) =>
    void useRehearsal.getState().start({
      runbook: runbook.id,
      scenario: live || scenario === '' ? null : scenario,
      skip_steps: skip,
      time_scale: live ? 1 : timeScale,
      pace,
      ...(resetFirst ? { reset_first: true } : {}),
    });
  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    if (!canStart) return;
    start(false);
  };

  return (
    <form className="form rehearse-setup" onSubmit={onSubmit} data-testid="rehearse-setup">
      {live ? (
        <div className="live-banner" role="alert" data-testid="live-banner">
          <StatusBadge status="production" label="LIVE" />
          <span>
            This runs the runbook against <strong className="mono">{connection.url}</strong> ({connection.environment}): its rollbacks, pauses and runs happen for real, each action
            after your confirmation, within your token’s role.
          </span>
        </div>
      ) : (
        <div className="rehearse-options">
          <label>
            Scenario (sets up the incident first)
            <select className="input" value={scenario} onChange={(e) => setScenario(e.target.value)} data-testid="rehearse-scenario">
              <option value="">None — rehearse on the sandbox as it is</option>
              {scenarios.map((s) => (
                <option key={s.name} value={s.name}>
                  {s.name} ({s.level})
                </option>
              ))}
            </select>
          </label>
          <label>
            Wait steps
            <select className="input" value={String(timeScale)} onChange={(e) => setTimeScale(Number(e.target.value))} data-testid="rehearse-time-scale">
              {TIME_SCALES.map((t) => (
                <option key={t.value} value={String(t.value)}>
                  {t.label}
                </option>
              ))}
            </select>
          </label>
        </div>
      )}
      <label className="rehearse-pace">
        Pace
        <select className="input" value={pace} onChange={(e) => setPace(e.target.value === 'automatic' ? 'automatic' : 'paced')} data-testid="rehearse-pace">
          <option value="paced">Paced — each step waits for your go; the clock times you</option>
          <option value="automatic">Automatic (CI) — steps run by themselves; the clock times the machine</option>
        </select>
      </label>
      {chosen && !live ? (
        <p className="muted" data-testid="rehearse-scenario-description">
          {chosen.description}
        </p>
      ) : null}
      {scenariosError && !live ? <ErrorNotice error={scenariosError} testId="scenarios-error" /> : null}

      <ol className="step-list">
        {runbook.runbook.steps.map((step, i) => {
          const index = i + 1;
          const skipped = skip.includes(index);
          return (
            <li key={index} className={skipped ? 'step-item is-skipped' : 'step-item'} data-testid="setup-step">
              <span className="step-index">{index}</span>
              <span className="step-kind muted">{step.kind.replace('_', ' ')}</span>
              <span className="step-title">{step.title}</span>
              <span className="muted step-expected">{formatDuration(step.expected_ms)}</span>
              <label className="inline-label muted">
                <input type="checkbox" checked={skipped} onChange={() => setSkip(skipped ? skip.filter((n) => n !== index) : [...skip, index])} data-testid="setup-step-skip" />
                skip
              </label>
            </li>
          );
        })}
      </ol>
      <p className="muted">
        Plan: {formatDuration(plannedMs(runbook.runbook))} over {runbook.runbook.steps.length} steps.
      </p>
      {live ? (
        <label>
          <span>
            Type the runbook name <strong className="mono">{runbook.name}</strong> to run it live
          </span>
          <input className="input" value={typed} onChange={(e) => setTyped(e.target.value)} autoComplete="off" spellCheck={false} data-testid="rehearse-confirm-name" />
        </label>
      ) : null}
      {needsReset ? (
        <div className="notice-warn rehearse-reset-offer" role="alert" data-testid="rehearse-reset-offer">
          <p>
            <strong>This sandbox cannot stage the scenario as it is.</strong> {needsReset.message}
          </p>
          <p className="muted">
            {onScratch
              ? 'Reset first: the rehearsal runs on a fresh demo copy, and your sandbox stays as it is.'
              : 'Reset first: the sandbox is reset to the demo, the old file kept beside it as <file>.before-reset.'}
          </p>
          <button ref={resetRef} type="button" className="btn btn-primary" disabled={starting} onClick={() => start(true)} data-testid="rehearse-reset-first">
            Reset to the demo first, then rehearse
          </button>
        </div>
      ) : error ? (
        <ErrorNotice error={error} testId="rehearse-error" />
      ) : null}
      <div className="form-actions">
        <button type="submit" className={live ? 'btn btn-danger' : 'btn btn-primary'} disabled={!canStart} data-testid="rehearse-start">
          {live ? 'Run live' : 'Start rehearsal'}
        </button>
      </div>
    </form>
  );
}
