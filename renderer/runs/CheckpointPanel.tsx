import { useState } from 'react';
import { useShallow } from 'zustand/react/shallow';
import { formatShortTime, formatTime } from '../shared/format.js';
import { JsonView } from '../shared/JsonView.js';
import { StatusBadge } from '../shared/StatusBadge.js';
import { VirtualList } from '../shared/VirtualList.js';
import { useInspector } from '../store/inspector-store.js';
import { selectSelectedCheckpoint } from '../store/selectors.js';

/** The run's checkpoints (virtualized: a long run has thousands) and the state of the one picked. */
export function CheckpointPanel() {
  const checkpoints = useInspector(useShallow((s) => s.checkpoints));
  const selectedSeq = useInspector((s) => s.selectedSeq);
  const selected = useInspector(selectSelectedCheckpoint);
  const query = useInspector((s) => s.jsonQuery);
  const prunedAfter = useInspector((s) => (s.run?.pruned_at ? (s.run.pruned_after ?? 'the retention window') : null));
  const [active, setActive] = useState(0);

  return (
    <div className="checkpoints">
      <section className="checkpoint-list" aria-label="Checkpoints">
        <h3>Checkpoints ({checkpoints.length})</h3>
        <VirtualList
          items={checkpoints}
          rowHeight={30}
          getKey={(c) => String(c.seq)}
          activeIndex={active}
          onActiveChange={setActive}
          onActivate={(i) => checkpoints[i] && useInspector.getState().selectCheckpoint(checkpoints[i].seq)}
          label="Checkpoints"
          testId="checkpoint-list"
          emptyText={prunedAfter ? `Checkpoints removed after ${prunedAfter}.` : 'No checkpoint yet.'}
          renderRow={(c, _i, isActive) => (
            <button
              type="button"
              className={c.seq === selectedSeq ? 'row-button cp-row is-selected' : 'row-button cp-row'}
              tabIndex={isActive ? 0 : -1}
              data-primary
              aria-current={c.seq === selectedSeq ? 'true' : undefined}
              onClick={() => useInspector.getState().selectCheckpoint(c.seq)}
              data-testid="checkpoint-row"
              data-seq={c.seq}
              data-node-id={c.node_id}
            >
              <span className="mono cp-seq">#{c.seq}</span>
              <span className="cp-node">{c.node_id}</span>
              <StatusBadge status={c.status} testId="checkpoint-status" />
              <span className="muted cp-time" title={formatTime(c.created_at)}>
                {formatShortTime(c.created_at).slice(6)}
              </span>
            </button>
          )}
        />
      </section>
      <section className="checkpoint-state" aria-label="Checkpoint state">
        <h3>{selected ? `State after ${selected.node_id} (#${selected.seq})` : 'State'}</h3>
        {selected ? (
          <JsonView
            value={selected.state}
            query={query}
            onQueryChange={(q) => useInspector.getState().setJsonQuery(q)}
            label={`checkpoint #${selected.seq}`}
            testId="checkpoint-json"
          />
        ) : (
          <p className="muted">Pick a checkpoint or a node.</p>
        )}
      </section>
    </div>
  );
}
