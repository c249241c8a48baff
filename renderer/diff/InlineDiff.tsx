import type { Part } from './inline-diff.js';

/** One side of a changed value, its changed parts marked (`del` on the left, `ins` on the right). */
export function InlineDiff({ parts, side }: { parts: Part[]; side: 'before' | 'after' }) {
  const Mark = side === 'before' ? 'del' : 'ins';
  return (
    <>
      {parts.map((p, i) =>
        p.kind === 'changed' ? (
          <Mark key={i} className="diff-hl" data-testid="diff-hl">
            {p.text}
          </Mark>
        ) : p.kind === 'gap' ? (
          <span key={i} className="diff-gap" title="unchanged text left out">
            {p.text}
          </span>
        ) : (
          <span key={i}>{p.text}</span>
        ),
      )}
    </>
  );
}
