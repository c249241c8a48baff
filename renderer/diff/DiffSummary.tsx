import type { DslDiff } from '../../preload/contract/index.js';
import { aroundChanges, changedParts } from './inline-diff.js';
import { InlineDiff } from './InlineDiff.js';

/** Unchanged text kept either side of a change: enough to place it, short enough for the cell. */
const CONTEXT = 24;

const text = (v: unknown) => JSON.stringify(v) ?? '—';

/** A changed value's two cells, each showing where it changed (the full value on hover). */
function ChangeCells({ before, after }: { before: unknown; after: unknown }) {
  const b = text(before);
  const a = text(after);
  const parts = changedParts(b, a);
  return (
    <>
      <td className="mono dsl-removed" title={b} data-testid="diff-before">
        <InlineDiff parts={aroundChanges(parts.before, CONTEXT)} side="before" />
      </td>
      <td className="mono dsl-added" title={a} data-testid="diff-after">
        <InlineDiff parts={aroundChanges(parts.after, CONTEXT)} side="after" />
      </td>
    </>
  );
}

/** The structural diff in words: nodes added, removed and changed, and changed defaults. */
export function DiffSummary({ diff }: { diff: DslDiff }) {
  if (diff.identical) {
    return (
      <p className="diff-summary muted" data-testid="diff-summary">
        The two definitions are identical.
      </p>
    );
  }
  return (
    <div className="diff-summary" data-testid="diff-summary">
      <ul className="diff-counts">
        <li data-testid="diff-added">
          <span className="badge" data-status="added">+{diff.added.length}</span> added {diff.added.join(', ')}
        </li>
        <li data-testid="diff-removed">
          <span className="badge" data-status="removed">−{diff.removed.length}</span> removed {diff.removed.join(', ')}
        </li>
        <li data-testid="diff-changed">
          <span className="badge" data-status="changed">~{diff.changed.length}</span> changed {diff.changed.map((c) => c.node_id).join(', ')}
        </li>
      </ul>
      {diff.changed.length + diff.defaults_changed.length + (diff.params_changed?.length ?? 0) > 0 ? (
        <table className="diff-changes">
          <thead>
            <tr>
              <th scope="col">where</th>
              <th scope="col">before</th>
              <th scope="col">after</th>
            </tr>
          </thead>
          <tbody>
            {diff.changed.flatMap((c) =>
              c.changes.map((ch) => (
                <tr key={`${c.node_id}:${ch.path}`}>
                  <td className="mono">
                    {c.node_id}.{ch.path}
                  </td>
                  <ChangeCells before={ch.before} after={ch.after} />
                </tr>
              )),
            )}
            {diff.defaults_changed.map((ch) => (
              <tr key={`defaults:${ch.path}`}>
                <td className="mono">defaults.{ch.path}</td>
                <ChangeCells before={ch.before} after={ch.after} />
              </tr>
            ))}
            {(diff.params_changed ?? []).map((ch) => (
              <tr key={`params:${ch.path}`}>
                <td className="mono">params.{ch.path}</td>
                <ChangeCells before={ch.before} after={ch.after} />
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </div>
  );
}
