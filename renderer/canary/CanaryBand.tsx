import { useEffect, useRef } from 'react';
import type { Canary, Workflow } from '../../preload/contract/index.js';
import { ErrorNotice } from '../shared/ErrorNotice.js';
import { SentForReview } from '../reviews/SentForReview.js';
import { GuardedButton } from '../shared/GuardedButton.js';
import { useCanary } from '../store/canary-store.js';
import { useConnections } from '../store/connections-store.js';
import { selectRole } from '../store/selectors.js';

export const percentText = (r: number) => `${(r * 100).toFixed(1)} %`;

/** The canary's figures against its policy in one line: what an operator judges before promoting or aborting. */
export function canarySummary(c: Canary): string {
  const judged = c.runs >= c.policy.min_runs ? 'judged' : `judged from ${c.policy.min_runs} runs`;
  return `${c.percent} % of new runs · ${c.runs} run${c.runs === 1 ? '' : 's'} · failure rate ${percentText(c.failure_rate)} of ${percentText(c.policy.max_failure_rate)} allowed · ${judged}`;
}

/**
 * The running canary above the timeline: its share, its runs so far, its failure rate against the
 * threshold and its state, with Promote and Abort — each asked, then confirmed, as every change of
 * what new runs get is.
 */
export function CanaryBand({ workflow }: { workflow: Workflow }) {
  const canary = workflow.canary ?? null;
  const asking = useCanary((s) => (s.asking?.workflowId === workflow.id ? s.asking.action : null));
  const sending = useCanary((s) => s.sending);
  const error = useCanary((s) => s.error);
  const sentForReview = useCanary((s) => s.sentForReview);
  const role = useConnections(selectRole);
  const confirmRef = useRef<HTMLButtonElement>(null);

  useEffect(() => {
    if (asking) confirmRef.current?.focus();
  }, [asking]);

  if (!canary) return null;
  const used = canary.policy.max_failure_rate === 0 ? (canary.failure_rate > 0 ? 1 : 0) : Math.min(1, canary.failure_rate / canary.policy.max_failure_rate);
  const consequence =
    asking === 'promote'
      ? `Promote v${canary.version}: it becomes the active version for every new run, and v${canary.stable_version} is deprecated.`
      : `Abort the canary: roll back to v${canary.stable_version}; no new run draws v${canary.version} again.`;

  return (
    <section className="canary-band" aria-label={`Canary of v${canary.version}`} data-testid="canary-band" data-state={canary.state}>
      <div className="canary-head">
        <strong data-testid="canary-version">Canary v{canary.version}</strong>
        <span className="badge" data-testid="canary-state">
          {canary.state === 'healthy' ? 'healthy · waiting to promote' : canary.state}
        </span>
        <span className="muted" data-testid="canary-summary">
          {canarySummary(canary)}
        </span>
        <span className="canary-meter" aria-hidden="true" title="failure rate against its threshold">
          <span className="canary-meter-fill" data-over={canary.failure_rate > canary.policy.max_failure_rate} style={{ width: `${Math.round(used * 100)}%` }} />
        </span>
        <span className="canary-actions">
          <GuardedButton action="promote" role={role} disabled={sending} onClick={() => useCanary.getState().ask(workflow.id, 'promote')} testId="canary-promote">
            Promote
          </GuardedButton>
          <GuardedButton action="abort" role={role} className="btn btn-warn" disabled={sending} onClick={() => useCanary.getState().ask(workflow.id, 'abort')} testId="canary-abort">
            Abort
          </GuardedButton>
        </span>
      </div>
      {asking ? (
        <div className="canary-confirm" role="group" aria-label={`Confirm ${asking}`} data-testid="canary-confirm">
          <span>{consequence}</span>
          <button type="button" ref={confirmRef} className={asking === 'abort' ? 'btn btn-warn' : 'btn'} disabled={sending} onClick={() => void useCanary.getState().confirm()} data-testid="canary-confirm-yes">
            {asking === 'promote' ? `Promote v${canary.version}` : `Abort and roll back to v${canary.stable_version}`}
          </button>
          <button type="button" className="btn btn-ghost" disabled={sending} onClick={() => useCanary.getState().cancel()} data-testid="canary-confirm-no">
            Keep it running
          </button>
        </div>
      ) : null}
      {sentForReview && sentForReview.review.workflow_id === workflow.id ? <SentForReview sent={sentForReview} onClose={() => useCanary.getState().cancel()} /> : null}
      {error ? <ErrorNotice error={error} onDismiss={() => useCanary.getState().cancel()} testId="canary-error" /> : null}
    </section>
  );
}
