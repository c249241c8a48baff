import type { DslDiff } from '../../preload/contract/index.js';

const short = (v: unknown) => {
  const s = JSON.stringify(v);
  return s === undefined ? '—' : s.length > 60 ? `${s.slice(0, 57)}…` : s;
};

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
      {diff.changed.length + diff.defaults_changed.length > 0 ? (
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
                  <td className="mono dsl-removed">{short(ch.before)}</td>
                  <td className="mono dsl-added">{short(ch.after)}</td>
                </tr>
              )),
            )}
            {diff.defaults_changed.map((ch) => (
              <tr key={`defaults:${ch.path}`}>
                <td className="mono">defaults.{ch.path}</td>
                <td className="mono dsl-removed">{short(ch.before)}</td>
                <td className="mono dsl-added">{short(ch.after)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </div>
  );
}
