import { useCallback, useEffect, useState } from 'react';
import { useShallow } from 'zustand/react/shallow';
import { ErrorNotice } from '../shared/ErrorNotice.js';
import { FilterSelect } from '../shared/FilterSelect.js';
import { describeEvent } from '../shared/event-text.js';
import { formatTime } from '../shared/format.js';
import { Progress } from '../shared/Progress.js';
import { StatusBadge } from '../shared/StatusBadge.js';
import { VirtualList } from '../shared/VirtualList.js';
import { useAudit } from '../store/audit-store.js';
import { selectAuditActors, selectAuditCount, selectAuditTypes } from '../store/selectors.js';
import { useWorkflows } from '../store/workflows-store.js';
import { ActorFilter } from './ActorFilter.js';
import { TimeFilter } from './TimeFilter.js';

/** Rows from the end of what is loaded at which the next older page is asked for. */
const LOAD_AHEAD = 40;

/** The append-only event log, read page by page from its head, filtered on the server, live. */
export function AuditLog() {
  const events = useAudit((s) => s.events);
  const count = useAudit(selectAuditCount);
  const actors = useAudit(useShallow(selectAuditActors));
  const types = useAudit(useShallow(selectAuditTypes));
  const filter = useAudit((s) => s.filter);
  const loaded = useAudit((s) => s.loaded);
  const loading = useAudit((s) => s.loading);
  const loadingOlder = useAudit((s) => s.loadingOlder);
  const error = useAudit((s) => s.error);
  const chain = useAudit((s) => s.chain);
  const verifying = useAudit((s) => s.verifying);
  const chainError = useAudit((s) => s.chainError);
  const workflows = useWorkflows((s) => s.workflows);
  const [active, setActive] = useState(0);
  const setFilter = useAudit((s) => s.setFilter);

  // The log is read when the view is first shown, from its head.
  useEffect(() => {
    if (!loaded && !loading && !error) void useAudit.getState().load();
  }, [loaded, loading, error]);

  const onVisibleEnd = useCallback((last: number) => {
    if (last >= useAudit.getState().events.length - LOAD_AHEAD) void useAudit.getState().loadOlder();
  }, []);

  return (
    <section className="audit" aria-label="Audit log" data-testid="audit-view">
      <div className="panel-title">
        <h1 tabIndex={-1} data-view-heading>
          Audit log
        </h1>
        <span className="muted" data-testid="audit-count">
          {count}
        </span>
        <span className="chain" data-testid="chain-status" data-ok={chain ? String(chain.ok) : 'unknown'}>
          {chain ? (
            chain.ok ? (
              <StatusBadge status="succeeded" label={`chain intact · ${chain.length} links`} />
            ) : (
              <StatusBadge status="failed" label={`chain broken at #${chain.first_broken_seq ?? '?'}${chain.reason ? `: ${chain.reason}` : ''}`} />
            )
          ) : (
            <span className="muted">chain not verified yet</span>
          )}
        </span>
        <button type="button" className="btn" aria-disabled={verifying} onClick={() => {
            // Busy, not disabled: a disabled button would drop the focus to the page.
            if (!verifying) void useAudit.getState().verify();
          }} data-testid="chain-verify">
          Verify chain
        </button>
      </div>
      {verifying ? <Progress label="Verifying the hash chain…" /> : null}
      {chainError ? <ErrorNotice error={chainError} testId="chain-error" /> : null}
      {error ? <ErrorNotice error={error} onReload={() => void useAudit.getState().load()} /> : null}
      <div className="filters">
        <FilterSelect
          label="Workflow"
          allLabel="All workflows"
          value={filter.workflowId}
          options={workflows.map((w) => ({ value: w.id, label: w.name }))}
          onChange={(workflowId) => setFilter({ workflowId })}
          testId="audit-filter-workflow"
        />
        <ActorFilter key={filter.actor} value={filter.actor} suggestions={actors} onCommit={(actor) => setFilter({ actor })} />
        <FilterSelect label="Type" allLabel="All types" value={filter.type} options={types.map((t) => ({ value: t, label: t }))} onChange={(type) => setFilter({ type })} testId="audit-filter-type" />
        <TimeFilter label="From" value={filter.since} onCommit={(since) => setFilter({ since })} testId="audit-filter-since" />
        <TimeFilter label="Until" value={filter.until} onCommit={(until) => setFilter({ until })} testId="audit-filter-until" />
      </div>
      {loading ? <Progress label="Reading the newest events…" /> : null}
      <VirtualList
        items={events}
        rowHeight={40}
        getKey={getSeqKey}
        activeIndex={active}
        onActiveChange={setActive}
        onVisibleEnd={onVisibleEnd}
        label="Events, newest first"
        testId="audit-list"
        emptyText={loaded ? 'No event matches.' : 'Loading…'}
        renderRow={(e, _i, isActive) => (
          <div className="audit-row" data-testid="audit-row" data-type={e.type} data-seq={e.seq}>
            <span className="mono audit-seq" tabIndex={isActive ? 0 : -1} data-primary>
              #{e.seq}
            </span>
            <time className="muted" dateTime={e.ts}>
              {formatTime(e.ts)}
            </time>
            <span className="audit-type mono" title={e.type}>
              {e.type}
            </span>
            <span className="audit-text" title={describeEvent(e)} data-testid="audit-text">
              {describeEvent(e)}
            </span>
            <span className="muted" title={e.actor}>
              {e.actor}
            </span>
            <span className="muted mono audit-hash" title={e.hash}>
              {e.hash.slice(0, 10)}
            </span>
          </div>
        )}
      />
      {loadingOlder ? <Progress label="Reading older events…" /> : null}
    </section>
  );
}

const getSeqKey = (e: { seq: number }) => String(e.seq);
