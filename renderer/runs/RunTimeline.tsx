import { useShallow } from 'zustand/react/shallow';
import { describeEvent } from '../shared/event-text.js';
import { formatShortTime, formatTime } from '../shared/format.js';
import { useInspector } from '../store/inspector-store.js';

/**
 * The run's own events, oldest first. A takeover (the replica executing the run died and another
 * continued it after its last checkpoint) is labelled, so an operator reading checkpoints knows
 * where the run changed hands and that nothing before that point ran twice.
 */
export function RunTimeline() {
  const events = useInspector(useShallow((s) => s.runEvents));
  if (events.length === 0) return null;
  return (
    <section className="run-timeline" aria-label="Run timeline">
      <h3>Timeline</h3>
      <ol data-testid="run-timeline">
        {events.map((e) => {
          const takeover = e.type === 'run_taken_over';
          return (
            <li key={e.seq} className={takeover ? 'run-event is-takeover' : 'run-event'} data-testid={takeover ? 'run-takeover' : 'run-event'} data-type={e.type}>
              <span className="muted mono" title={formatTime(e.ts)}>
                {formatShortTime(e.ts).slice(6)}
              </span>
              {takeover ? <span className="badge takeover-badge">takeover</span> : null}
              <span className="run-event-text">{describeEvent(e)}</span>
            </li>
          );
        })}
      </ol>
    </section>
  );
}
