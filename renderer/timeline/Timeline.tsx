import { useCallback, useId, useMemo, useState } from 'react';
import type { Workflow } from '../../preload/contract/index.js';
import { permission, versionMarks } from '../home/home-model.js';
import { ErrorNotice } from '../shared/ErrorNotice.js';
import { VirtualList } from '../shared/VirtualList.js';
import { useCanary } from '../store/canary-store.js';
import { useConnections } from '../store/connections-store.js';
import { useIncidents } from '../store/incidents-store.js';
import { useRollback } from '../store/rollback-store.js';
import { selectIncidentFor, selectRole, selectSnapshotTakenAt } from '../store/selectors.js';
import { useTimeline, type TimelineRow } from '../store/timeline-store.js';
import { TimelineItem } from './TimelineItem.js';

export const TIMELINE_ROW_HEIGHT = 60;
/** How close to the end of the loaded rows the next page is asked for: about three screens. */
const LOAD_AHEAD_ROWS = 60;

/** Every version of the workflow, newest first, with publishes and rollbacks drawn where they happened. */
export function Timeline({ workflow }: { workflow: Workflow }) {
  const rows = useTimeline((s) => s.rows);
  const versionCount = useTimeline((s) => s.total);
  const hasMore = useTimeline((s) => s.nextOffset !== null);
  const loadingMore = useTimeline((s) => s.loadingMore);
  // Older pages load as the end of what is loaded comes into view.
  const onVisibleEnd = useCallback(
    (last: number) => {
      if (hasMore && last >= rows.length - LOAD_AHEAD_ROWS) void useTimeline.getState().loadMore();
    },
    [hasMore, rows.length],
  );
  const loading = useTimeline((s) => s.loading);
  const error = useTimeline((s) => s.error);
  const selected = useTimeline((s) => s.selected);
  const [active, setActive] = useState(0);
  const incident = useIncidents(useMemo(() => selectIncidentFor(workflow.id), [workflow.id]));
  const marks = useMemo(() => versionMarks(incident), [incident]);
  const allowed = permission(useConnections(selectRole), 'rollback');
  const refusal = allowed.allowed ? null : allowed.reason;
  const onCopy = useConnections(selectSnapshotTakenAt) !== null;
  // Said once above the rows, and each row's button points at it (its accessible description).
  const noteId = useId();
  const note = refusal ?? (onCopy ? 'Rollbacks here act on this copy (a snapshot), never on the server it was taken from.' : null);

  const health = useCanary((s) => (s.workflowId === workflow.id ? s.health : null));
  const rollbackTo = (version: number) => void useRollback.getState().openFor(workflow.id, version);

  const onRowKey = (key: string, index: number): boolean => {
    const row: TimelineRow | undefined = rows[index];
    if (row?.kind !== 'version') return false;
    if (key === 'r' && refusal === null) {
      rollbackTo(row.version.version);
      return true;
    }
    return false;
  };

  return (
    <section className="timeline" aria-label="Version timeline">
      <div className="panel-title">
        <h2>Versions</h2>
        <span className="muted" data-testid="timeline-count">
          {loading && versionCount === 0 ? 'loading…' : `${versionCount} versions`}
        </span>
        {loadingMore ? (
          <span className="muted" data-testid="timeline-loading-more">
            loading older versions…
          </span>
        ) : null}
        <span className="muted timeline-picked" data-testid="timeline-picked">
          {selected.length === 0 ? 'Pick two to diff (Space)' : `Picked ${selected.map((v) => `v${v}`).join(', ')}`}
        </span>
        {selected.length > 0 ? (
          <button type="button" className="btn btn-ghost" onClick={() => useTimeline.getState().clearSelection()} data-testid="timeline-clear">
            Clear
          </button>
        ) : null}
      </div>
      {note ? (
        <p id={noteId} className="muted guard-reason timeline-note" data-testid="timeline-note">
          {note}
        </p>
      ) : null}
      {error ? <ErrorNotice error={error} onReload={() => void useTimeline.getState().load(workflow.id)} testId="timeline-error" /> : null}
      <VirtualList
        items={rows}
        rowHeight={TIMELINE_ROW_HEIGHT}
        getKey={(r) => r.key}
        activeIndex={active}
        onActiveChange={setActive}
        onRowKey={onRowKey}
        label={`Versions of ${workflow.name}`}
        testId="timeline"
        className="timeline-list"
        emptyText={loading ? 'Loading versions…' : 'No versions yet.'}
        onVisibleEnd={onVisibleEnd}
        hasMore={hasMore}
        onLoadAll={() => void useTimeline.getState().loadAll()}
        renderRow={(row, _i, isActive) => (
          <TimelineItem
            row={row}
            active={isActive}
            picked={row.kind === 'version' && selected.includes(row.version.version)}
            onRollback={rollbackTo}
            mark={row.kind === 'version' ? (marks.get(row.version.version) ?? null) : null}
            refusal={refusal}
            describedBy={note ? noteId : undefined}
            onCopy={onCopy}
            health={row.kind === 'version' ? (health?.[row.version.version] ?? null) : null}
            activeVersion={workflow.active_version}
          />
        )}
      />
    </section>
  );
}
