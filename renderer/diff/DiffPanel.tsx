import { ErrorNotice } from '../shared/ErrorNotice.js';
import { Progress } from '../shared/Progress.js';
import { useTimeline } from '../store/timeline-store.js';
import { DiffSummary } from './DiffSummary.js';
import { DslSideBySide } from './DslSideBySide.js';

/** The diff of the two versions picked on the timeline. */
export function DiffPanel() {
  const selected = useTimeline((s) => s.selected);
  const diff = useTimeline((s) => s.diff);
  const loading = useTimeline((s) => s.diffLoading);
  const error = useTimeline((s) => s.diffError);

  return (
    <section className="diff-panel" aria-label="Version diff" data-testid="diff-panel">
      <div className="panel-title">
        <h2>{diff ? `Diff v${diff.from.version} → v${diff.to.version}` : 'Diff'}</h2>
      </div>
      {selected.length < 2 ? <p className="muted">Pick two versions on the timeline to compare them.</p> : null}
      {loading ? <Progress label="Comparing…" /> : null}
      {error ? <ErrorNotice error={error} testId="diff-error" /> : null}
      {diff && selected.length === 2 ? (
        <>
          <DiffSummary diff={diff.diff} />
          <DslSideBySide before={diff.from.dsl_definition} after={diff.to.dsl_definition} beforeLabel={`v${diff.from.version}`} afterLabel={`v${diff.to.version}`} />
        </>
      ) : null}
    </section>
  );
}
