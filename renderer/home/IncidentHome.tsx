import { useEffect, useRef, useState } from 'react';
import type { DeadLetter, FailingWorkflow, RecentRollback, Role, RunningCanary, WaitingApproval } from '../../preload/contract/index.js';
import { ApprovalSummary } from '../approvals/ApprovalSummary.js';
import { IncidentRecordLine } from '../incidents/IncidentRecordLine.js';
import { canarySummary } from '../canary/CanaryBand.js';
import { ErrorNotice } from '../shared/ErrorNotice.js';
import { focusIsIdle } from '../shared/focus.js';
import { GuardedButton } from '../shared/GuardedButton.js';
import { Progress } from '../shared/Progress.js';
import { StatusBadge } from '../shared/StatusBadge.js';
import { useNow } from '../shared/use-now.js';
import { useApprovalAnswer } from '../store/approval-answer-store.js';
import { useApprovals } from '../store/approvals-store.js';
import { useConnections } from '../store/connections-store.js';
import { useWorkflows } from '../store/workflows-store.js';
import { useIncidents } from '../store/incidents-store.js';
import { selectRole, selectSnapshotTakenAt } from '../store/selectors.js';
import { absoluteTime, badLabel, homeSections, policyLine, publishedBy, relativeTime, suggestedAction, type HomeSection } from './home-model.js';
import { openRun, openWorkflow, runSuggested } from './incident-actions.js';
import { WaitingForReview } from '../reviews/WaitingForReview.js';

/** A time as the on-call reads it ("12 min ago"), the absolute time and time zone on hover. */
function When({ iso, now, testId }: { iso: string; now: number; testId?: string }) {
  // A snapshot's times are read against the moment it was taken, not against the wall clock.
  const takenAt = useConnections(selectSnapshotTakenAt);
  return (
    <time dateTime={iso} title={absoluteTime(iso)} data-testid={testId}>
      {takenAt ? relativeTime(iso, Date.parse(takenAt), 'snapshot') : relativeTime(iso, now)}
    </time>
  );
}

function FailingItem({ f, now, role }: { f: FailingWorkflow; now: number; role: Role | null }) {
  const action = suggestedAction(f);
  const bad = badLabel(f);
  const published = publishedBy(f);
  const policy = policyLine(f);
  return (
    <li
      className={policy ? 'incident-item is-rolled-back' : 'incident-item'}
      data-testid="incident-item"
      data-workflow-id={f.workflow_id}
      data-workflow-name={f.workflow_name}
      data-rolled-back={policy ? 'true' : undefined}
    >
      <div className="incident-head">
        <button type="button" className="link-button incident-name" title={f.workflow_name} onClick={() => openWorkflow(f.workflow_id)} data-testid="incident-workflow">
          {f.workflow_name}
        </button>
        <StatusBadge status={f.status} />
        <span className="muted">active {f.active_version === null ? '—' : `v${f.active_version}`}</span>
      </div>
      <p className="incident-facts">
        {bad ? (
          <span className="incident-bad" data-testid="incident-bad">
            {bad}
          </span>
        ) : null}
        {f.last_good !== null ? (
          <span className="incident-good" data-testid="incident-last-good">
            last good: v{f.last_good}
          </span>
        ) : null}
        <span data-testid="incident-failures">
          {f.open_failures} open failure{f.open_failures === 1 ? '' : 's'} · first <When iso={f.first_failure_at} now={now} testId="incident-first" /> · last{' '}
          <When iso={f.last_failure_at} now={now} testId="incident-last" />
        </span>
        {published ? (
          <span className="muted" data-testid="incident-published">
            v{published.version} {f.policy_rollback || published.version !== f.active_version ? 'put forward' : 'published'} by {published.by}
            {published.at ? (
              <>
                {' '}
                <When iso={published.at} now={now} />
              </>
            ) : null}
          </span>
        ) : null}
      </p>
      {policy ? (
        <p className="incident-policy" data-testid="incident-policy">
          <span aria-hidden="true">⚡ </span>
          {policy}
          {f.policy_rollback ? (
            <>
              {' '}
              · <When iso={f.policy_rollback.ts} now={now} />
            </>
          ) : null}
        </p>
      ) : null}
      {f.latest_error ? (
        <p className="incident-error mono" title={f.latest_error} data-testid="incident-error">
          {f.latest_failed_node ? `${f.latest_failed_node}: ` : ''}
          {f.latest_error}
        </p>
      ) : null}
      <IncidentRecordLine workflowId={f.workflow_id} role={role} />
      <table className="incident-rates" aria-label={`Failure rate by version of ${f.workflow_name}`}>
        <thead>
          <tr>
            <th scope="col">version</th>
            <th scope="col">failed / runs</th>
          </tr>
        </thead>
        <tbody>
          {f.by_version.slice(0, 5).map((h) => (
            <tr key={h.version} data-testid="incident-rate" data-version={h.version}>
              <td>v{h.version}</td>
              <td>
                {h.failed}/{h.runs}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <div className="incident-actions">
        {action.kind === 'open-run' ? (
          <button type="button" className="btn btn-primary" onClick={() => runSuggested(action)} data-testid="incident-action" data-workflow-id={f.workflow_id} data-action={action.kind}>
            {action.label}
          </button>
        ) : (
          <GuardedButton
            action={action.kind}
            role={role}
            className="btn btn-primary"
            onClick={() => runSuggested(action)}
            testId="incident-action"
            extra={{ 'data-workflow-id': f.workflow_id, 'data-action': action.kind }}
          >
            {action.label}
          </GuardedButton>
        )}
        {action.kind === 'open-run' ? null : (
          <button type="button" className="btn" onClick={() => openRun(f.latest_failed_run_id)} data-testid="incident-open-run">
            Open failing run
          </button>
        )}
        <button type="button" className="btn btn-ghost" onClick={() => openWorkflow(f.workflow_id)} data-testid="incident-timeline">
          Timeline
        </button>
      </div>
    </li>
  );
}

function RollbackItem({ r, now }: { r: RecentRollback; now: number }) {
  return (
    <li className="rollback-item" data-testid="home-rollback" data-seq={r.seq}>
      <button type="button" className="link-button incident-name" title={r.workflow_name} onClick={() => openWorkflow(r.workflow_id)}>
        {r.workflow_name}
      </button>
      <span>
        v{r.from_version ?? '—'} → v{r.to_version}
      </span>
      <span className="muted" title={r.actor.startsWith('policy:') ? 'an automatic rollback by this policy' : 'rolled back by'}>
        by {r.actor}
      </span>
      <span className="muted">
        <When iso={r.ts} now={now} />
      </span>
    </li>
  );
}

function DeadLetterItem({ d, now }: { d: DeadLetter; now: number }) {
  const look = `rewind webhooks deliveries ${d.webhook_id} --state dead`;
  return (
    <li className="rollback-item" data-testid="home-dead-letter" data-seq={d.seq}>
      <span className="incident-name mono" title={`webhook ${d.webhook_id}`}>
        {d.host}
      </span>
      <span>
        {d.event_type} #{d.seq}
      </span>
      <span className="muted" title={`Gave up after ${d.attempts} attempts. The delivery log: ${look}`}>
        {d.last_error ?? 'no answer'}
      </span>
      <span className="muted">
        <When iso={d.finished_at} now={now} />
      </span>
    </li>
  );
}

function WaitingItem({ approval, now, role }: { approval: WaitingApproval; now: number; role: Role | null }) {
  const run = approval.run;
  const sending = useApprovalAnswer((s) => s.sendingRunId === run.run_id);
  const error = useApprovalAnswer((s) => (s.error?.runId === run.run_id && !s.confirming ? s.error.error : null));
  const { ask } = useApprovalAnswer.getState();
  return (
    <li className="waiting-item" data-testid="home-waiting" data-run-id={run.run_id}>
      <div className="incident-head">
        <button type="button" className="link-button incident-name" title={approval.workflow_name} onClick={() => openWorkflow(run.workflow_id)}>
          {approval.workflow_name}
        </button>
        <StatusBadge status="waiting" />
        <span className="muted">
          asked <When iso={approval.requested_at ?? run.started_at ?? run.created_at} now={now} />
        </span>
      </div>
      <ApprovalSummary approval={approval} />
      <div className="incident-actions">
        <GuardedButton action="approve" role={role} disabled={sending} onClick={() => void ask(approval, 'approve', 'home')} testId="home-approve" className="btn btn-primary btn-small">
          Approve
        </GuardedButton>
        <GuardedButton action="approve" role={role} disabled={sending} onClick={() => void ask(approval, 'deny', 'home')} testId="home-deny" className="btn btn-small">
          Deny
        </GuardedButton>
        <button type="button" className="btn btn-ghost btn-small" onClick={() => openRun(run.run_id)} data-testid="home-open-waiting">
          Open run
        </button>
      </div>
      {error ? <ErrorNotice error={error} testId="home-approval-error" /> : null}
    </li>
  );
}

function CanaryItem({ c, now }: { c: RunningCanary; now: number }) {
  return (
    <li className="rollback-item" data-testid="home-canary" data-workflow={c.workflow_id}>
      <button type="button" className="link-button incident-name" title={c.workflow_name} onClick={() => openWorkflow(c.workflow_id)}>
        {c.workflow_name}
      </button>
      <span>
        v{c.version} ({c.state})
      </span>
      <span className="muted">{canarySummary(c)}</span>
      <span className="muted">
        <When iso={c.started_at} now={now} />
      </span>
    </li>
  );
}

/** Runs held at an approval node: an operator's answer is what they wait for. */
function WaitingSection({ now, role }: { now: number; role: Role | null }) {
  const waiting = useApprovals((s) => s.waiting);
  const more = useApprovals((s) => s.more);
  const workflows = useWorkflows((s) => s.workflows);
  const [limit, setLimit] = useState(HOME_PAGE);
  if (waiting.length === 0) return null;
  const names = new Map(workflows.map((w) => [w.id, w.name]));
  const left = waiting.length - limit;
  // A server that predates approvals:list names no workflow: the sidebar's names stand in.
  const named = (a: WaitingApproval): WaitingApproval => (a.workflow_name === a.run.workflow_id ? { ...a, workflow_name: names.get(a.run.workflow_id) ?? a.workflow_name } : a);
  return (
    <section className="home-section" aria-labelledby="home-waiting" data-testid="home-section-waiting">
      <h2 id="home-waiting">
        Waiting for approval <span className="muted">{waiting.length}{more ? '+' : ''}</span>
      </h2>
      <ul className="home-list">
        {waiting.slice(0, limit).map((a) => (
          <WaitingItem key={a.run.run_id} approval={named(a)} now={now} role={role} />
        ))}
      </ul>
      {left > 0 ? (
        <button type="button" className="btn btn-ghost" onClick={() => setLimit(limit + HOME_PAGE)} data-testid="home-more-waiting">
          Show {Math.min(left, HOME_PAGE)} more of {left}
        </button>
      ) : null}
    </section>
  );
}

/** Worst first, a page at a time: a thousand failing workflows must not make the first screen slow. */
export const HOME_PAGE = 25;

function Section({ section, now, role }: { section: HomeSection; now: number; role: Role | null }) {
  const headingId = `home-${section.kind}`;
  const [limit, setLimit] = useState(HOME_PAGE);
  const more = section.items.length - limit;
  return (
    <section className="home-section" aria-labelledby={headingId} data-testid={`home-section-${section.kind}`}>
      <h2 id={headingId}>
        {section.title} <span className="muted">{section.items.length}</span>
      </h2>
      <ul className="home-list">
        {section.kind === 'failing' || section.kind === 'rolled-back'
          ? section.items.slice(0, limit).map((f) => <FailingItem key={f.workflow_id} f={f} now={now} role={role} />)
          : section.kind === 'canaries'
            ? section.items.slice(0, limit).map((c) => <CanaryItem key={c.workflow_id} c={c} now={now} />)
            : section.kind === 'dead-letters'
              ? section.items.slice(0, limit).map((d) => <DeadLetterItem key={`${d.webhook_id}:${d.seq}`} d={d} now={now} />)
              : section.items.slice(0, limit).map((r) => <RollbackItem key={r.seq} r={r} now={now} />)}
      </ul>
      {more > 0 ? (
        <button type="button" className="btn btn-ghost" onClick={() => setLimit(limit + HOME_PAGE)} data-testid={`home-more-${section.kind}`}>
          Show {Math.min(more, HOME_PAGE)} more of {more}
        </button>
      ) : null}
    </section>
  );
}

/** The first screen of every connection: what is wrong now, worst first, each item one action away. */
export function IncidentHome() {
  const summary = useIncidents((s) => s.summary);
  const error = useIncidents((s) => s.error);
  const role = useConnections(selectRole);
  const now = useNow(true, 30_000);
  const ref = useRef<HTMLElement>(null);
  const sections = homeSections(summary);
  const failingNow = sections.find((x) => x.kind === 'failing')?.items[0] as FailingWorkflow | undefined;
  const firstAction = failingNow ? `${failingNow.workflow_id}:${suggestedAction(failingNow).kind}` : null;

  useEffect(() => {
    // The next step of an incident is its first suggested action: put focus there, unless the operator is elsewhere.
    if (!firstAction || !focusIsIdle()) return;
    ref.current?.querySelector<HTMLElement>('[data-testid="incident-action"]:not([disabled])')?.focus();
  }, [firstAction]);

  return (
    <section className="incident-home" aria-label="Incident home" data-testid="incident-home" ref={ref}>
      <header className="home-header">
        <h1 tabIndex={-1} data-view-heading data-testid="home-title">
          What is wrong now
        </h1>
        {summary ? (
          <span className="muted">
            failures of the last {summary.window_hours} h · updated <When iso={summary.generated_at} now={now} />
          </span>
        ) : null}
      </header>
      {error ? <ErrorNotice error={error} onReload={() => void useIncidents.getState().load()} testId="home-error" /> : null}
      {!summary && !error ? <Progress label="Reading the incidents…" /> : null}
      {summary && !failingNow ? (
        <p className="home-clear" data-testid="home-clear">
          <StatusBadge status="succeeded" label="all clear" /> No workflow has an open failure in the last {summary.window_hours} hours.
        </p>
      ) : null}
      {sections.map((s) => (
        <Section key={s.kind} section={s} now={now} role={role} />
      ))}
      <WaitingSection now={now} role={role} />
      <WaitingForReview now={now} />
    </section>
  );
}
