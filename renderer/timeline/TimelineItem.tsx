import { memo } from 'react';
import type { VersionMetrics } from '../../preload/contract/index.js';
import type { VersionMark } from '../home/home-model.js';
import { describeEvent } from '../shared/event-text.js';
import { formatShortTime, formatTime } from '../shared/format.js';
import { StatusBadge } from '../shared/StatusBadge.js';
import { rollbackWording } from '../store/rollback-store.js';
import { useTimeline, type TimelineRow } from '../store/timeline-store.js';

/** One timeline row; memoized because 30 of them re-render on every scroll frame otherwise. */
export const TimelineItem = memo(function TimelineItem({
  row,
  active,
  picked,
  onRollback,
  mark = null,
  refusal = null,
  describedBy,
  onCopy = false,
  health = null,
  activeVersion = null,
}: {
  row: TimelineRow;
  active: boolean;
  picked: boolean;
  onRollback: (version: number) => void;
  /** The incident's verdict on this version: part of the bad streak, or the last good one. */
  mark?: VersionMark | null;
  /** Why this console may not roll back here (its role), or null. */
  refusal?: string | null;
  /** The id of the element holding `refusal` (or the copy's note), each row button's accessible description. */
  describedBy?: string;
  /** The connection is a snapshot: the action says it acts on this copy. */
  onCopy?: boolean;
  /** This version's finished runs and failure rate, when it has any. */
  health?: VersionMetrics | null;
  /** The workflow's active version: a row above it is made active again, not rolled back to. */
  activeVersion?: number | null;
}) {
  const tab = active ? 0 : -1;
  if (row.kind !== 'version') {
    const text = describeEvent(row.event);
    // A policy's own rollback (policy:canary) is marked apart from a person's.
    const automatic = row.kind === 'rollback' && row.event.actor.startsWith('policy:');
    return (
      <div className={`tl-row tl-event tl-${row.kind}`} data-testid={`timeline-${row.kind}`} data-seq={row.event.seq} data-automatic={automatic ? 'true' : undefined}>
        <span className="tl-rail" aria-hidden="true">
          <span className="tl-glyph">{automatic ? '⚡' : row.kind === 'rollback' ? '↩' : '▲'}</span>
        </span>
        <span className="tl-event-text" tabIndex={tab} data-primary title={text} data-testid="timeline-message">
          {text}
        </span>
        <span className="muted tl-actor" title={row.event.actor}>
          by {row.event.actor}
        </span>
        <time className="muted tl-time" dateTime={row.time} title={formatTime(row.time)}>
          {formatShortTime(row.time)}
        </time>
      </div>
    );
  }
  const v = row.version;
  const published = row.published;
  return (
    <div className={picked ? 'tl-row tl-version is-picked' : 'tl-row tl-version'} data-testid="timeline-version" data-version={v.version} data-status={v.status} data-mark={mark ?? undefined}>
      <span className="tl-rail" aria-hidden="true">
        <span className="tl-dot" data-status={v.status} />
      </span>
      <button
        type="button"
        className="row-button tl-pick"
        tabIndex={tab}
        data-primary
        aria-pressed={picked}
        aria-label={`v${v.version}, ${v.status}: ${picked ? 'picked' : 'pick'} for diff`}
        onClick={() => useTimeline.getState().toggleSelect(v.version)}
        data-testid="timeline-pick"
      >
        <span className="tl-check" aria-hidden="true">
          {picked ? '☑' : '☐'}
        </span>
        <span className="tl-number">v{v.version}</span>
      </button>
      <StatusBadge status={v.status} testId="version-status" />
      <span className="tl-log" title={v.change_log}>
        {mark ? (
          <span className="tl-mark" data-mark={mark} data-testid="timeline-mark">
            {mark === 'bad' ? 'bad' : 'last good'}
          </span>
        ) : null}{' '}
        {published ? (
          <span className="tl-published" data-testid="timeline-published" title={`${describeEvent(published)} by ${published.actor}, ${formatTime(published.ts)}`}>
            <span aria-hidden="true">▲ </span>
            published
          </span>
        ) : null}{' '}
        {health ? <HealthBar health={health} /> : null}
        <span className="tl-message" data-testid="timeline-message">
          {v.change_log || <span className="muted">no change log</span>}
        </span>
      </span>
      <span className="muted tl-actor" title={v.created_by}>
        {v.created_by}
      </span>
      <time className="muted tl-time" dateTime={v.created_at} title={`created ${formatTime(v.created_at)}${v.published_at ? `, published ${formatTime(v.published_at)}` : ''}`}>
        {formatShortTime(v.created_at)}
      </time>
      {v.status === 'active' ? (
        <span className="tl-action-placeholder" />
      ) : (
        <RowAction version={v.version} activeVersion={activeVersion} mark={mark} refusal={refusal} describedBy={describedBy} onCopy={onCopy} tab={tab} onRollback={onRollback} />
      )}
    </div>
  );
});

/** A row's action, named for what it is: back to an older version, or forward to one that was active before; a bad one says so. */
function RowAction({
  version,
  activeVersion,
  mark,
  refusal,
  describedBy,
  onCopy,
  tab,
  onRollback,
}: {
  version: number;
  activeVersion: number | null;
  mark: VersionMark | null;
  refusal: string | null;
  describedBy: string | undefined;
  onCopy: boolean;
  tab: number;
  onRollback: (version: number) => void;
}) {
  const { forward, action } = rollbackWording({ from_version: activeVersion, to_version: version });
  const bad = mark === 'bad' ? ' (marked bad)' : '';
  return (
    <button
      type="button"
      className={mark === 'bad' ? 'btn btn-small tl-action-bad' : 'btn btn-small'}
      tabIndex={tab}
      onClick={() => onRollback(version)}
      disabled={refusal !== null}
      title={refusal ?? (bad ? `v${version} is marked bad: the dialog warns and asks for its version number` : undefined)}
      aria-label={refusal ? `${action}: not allowed` : `${action}${bad}${onCopy ? ' on this copy' : ''}`}
      aria-describedby={describedBy}
      data-testid="timeline-rollback"
      data-direction={forward ? 'forward' : 'back'}
    >
      {forward ? `Make v${version} active again` : 'Roll back'}
      {onCopy ? <span className="on-copy"> on this copy</span> : null}
    </button>
  );
}

/** Runs and failure rate of one version: a bar whose red part is the failed share. */
function HealthBar({ health }: { health: VersionMetrics }) {
  const rate = `${(health.failure_rate * 100).toFixed(0)} %`;
  const p95 = health.p95_ms === null ? '' : `, p95 ${health.p95_ms} ms`;
  const verdicts = Object.entries(health.verdicts)
    .flatMap(([key, counts]) => Object.entries(counts).map(([value, n]) => `${key} ${value}: ${n}`))
    .join(', ');
  const title = `${health.runs} finished runs, ${health.failed} failed (${rate})${p95}${verdicts ? `; ${verdicts}` : ''}`;
  return (
    <span className="tl-health" title={title} data-testid="timeline-health" data-runs={health.runs} data-failure-rate={health.failure_rate}>
      <span className="tl-health-bar" aria-hidden="true">
        <span className="tl-health-failed" style={{ width: `${Math.round(health.failure_rate * 100)}%` }} />
      </span>
      <span className="tl-health-text">
        {health.runs} runs · {rate}
      </span>
    </span>
  );
}
