import { useMemo, useState } from 'react';
import { InlineDiff } from './InlineDiff.js';
import { dslText, foldUnchanged, sideBySide, type Side } from './side-by-side.js';

function Cell({ side }: { side: Side }) {
  if (!side) return <td className="dsl-cell dsl-empty" colSpan={2} />;
  return (
    <>
      <td className="dsl-num">{side.line}</td>
      <td className={`dsl-cell dsl-${side.kind}`}>{side.parts ? <InlineDiff parts={side.parts} side={side.kind === 'removed' ? 'before' : 'after'} /> : side.text}</td>
    </>
  );
}

/** Two DSLs side by side, changed lines marked, long unchanged stretches folded. */
export function DslSideBySide({ before, after, beforeLabel, afterLabel }: { before: unknown; after: unknown; beforeLabel: string; afterLabel: string }) {
  const rows = useMemo(() => sideBySide(dslText(before), dslText(after)), [before, after]);
  const [unfolded, setUnfolded] = useState(false);
  const shown = useMemo(() => (unfolded ? rows : foldUnchanged(rows, 3)), [rows, unfolded]);
  return (
    <div className="dsl-diff" data-testid="dsl-diff" tabIndex={0} aria-label={`DSL of ${beforeLabel} beside ${afterLabel}`}>
      <table>
        <colgroup>
          <col className="dsl-numcol" />
          <col />
          <col className="dsl-numcol" />
          <col />
        </colgroup>
        <thead>
          <tr>
            <th colSpan={2} scope="colgroup">
              {beforeLabel}
            </th>
            <th colSpan={2} scope="colgroup">
              {afterLabel}
              {shown.length !== rows.length || unfolded ? (
                <button type="button" className="btn btn-small dsl-unfold" onClick={() => setUnfolded(!unfolded)} data-testid="dsl-unfold">
                  {unfolded ? 'Fold unchanged' : 'Show all lines'}
                </button>
              ) : null}
            </th>
          </tr>
        </thead>
        <tbody>
          {shown.map((row, i) =>
            'folded' in row ? (
              <tr key={i} className="dsl-fold">
                <td colSpan={4}>… {row.folded} unchanged lines …</td>
              </tr>
            ) : (
              <tr key={i} className={row.left?.kind === 'same' ? undefined : 'dsl-changed'}>
                <Cell side={row.left} />
                <Cell side={row.right} />
              </tr>
            ),
          )}
        </tbody>
      </table>
    </div>
  );
}
