import { useEffect, useRef } from 'react';
import { ErrorNotice } from '../shared/ErrorNotice.js';
import { GuardedButton } from '../shared/GuardedButton.js';
import { useConnections } from '../store/connections-store.js';
import { selectRole } from '../store/selectors.js';
import { Progress } from '../shared/Progress.js';
import { StatusBadge } from '../shared/StatusBadge.js';
import { useInspector } from '../store/inspector-store.js';
import { VersionPicker } from './VersionPicker.js';

const out = (v: unknown) => {
  const s = JSON.stringify(v);
  return s === undefined ? '—' : s.length > 80 ? `${s.slice(0, 77)}…` : s;
};

/** Re-run this run's input under another version and show node by node what changes. */
export function ReplayPanel() {
  const versions = useInspector((s) => s.versions);
  const replay = useInspector((s) => s.replay);
  const r = replay.result;
  const role = useConnections(selectRole);
  const resultRef = useRef<HTMLDivElement>(null);
  useEffect(() => {
    // The Replay button is busy while it runs; the answer is where the operator reads on.
    if (r) resultRef.current?.focus();
  }, [r]);

  return (
    <section className="action-panel" aria-label="Replay" data-testid="replay-panel">
      <h3>Replay on another version</h3>
      <div className="action-row">
        <VersionPicker versions={versions} value={replay.version} onChange={(v) => useInspector.getState().setReplayVersion(v)} label="Version" testId="replay-version" />
        <GuardedButton action="replay" role={role} disabled={replay.busy || replay.version === null} onClick={() => void useInspector.getState().replayRun()} testId="replay-submit">
          Replay
        </GuardedButton>
      </div>
      {replay.busy ? <Progress label="Replaying…" testId="replay-progress" /> : null}
      {replay.error ? <ErrorNotice error={replay.error} testId="replay-error" /> : null}
      {r ? (
        <div ref={resultRef} tabIndex={-1} role="region" aria-label="Replay result" className="focus-target" data-testid="replay-result">
          <p>
            Replay <span className="mono">{r.replay.run_id}</span> on v{r.replay.version}: <StatusBadge status={r.replay.status} />{' '}
            <strong data-testid="replay-changed">{r.changed}</strong> node{r.changed === 1 ? '' : 's'} changed outcome.
          </p>
          <table className="outcomes">
            <thead>
              <tr>
                <th scope="col">node</th>
                <th scope="col">v{r.original.version}</th>
                <th scope="col">v{r.replay.version}</th>
              </tr>
            </thead>
            <tbody>
              {r.outcomes.map((o) => (
                <tr key={o.node_id} className={o.changed ? 'is-changed' : undefined} data-testid="replay-outcome" data-changed={o.changed}>
                  <td className="mono">{o.node_id}</td>
                  <td>
                    {o.before ? <StatusBadge status={o.before.status} /> : '—'} <span className="mono">{o.before ? out(o.before.output) : ''}</span>
                  </td>
                  <td>
                    {o.after ? <StatusBadge status={o.after.status} /> : '—'} <span className="mono">{o.after ? out(o.after.output) : ''}</span>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
    </section>
  );
}
