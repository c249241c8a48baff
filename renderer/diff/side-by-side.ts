import { diffLines } from 'diff';
import { changedParts, type Part } from './inline-diff.js';

/** One side of a row; a line that replaced another carries `parts`, its changed stretches marked. */
export type Side = { line: number; text: string; kind: 'same' | 'removed' | 'added'; parts?: Part[] } | null;
export interface SideRow {
  left: Side;
  right: Side;
}

const splitLines = (value: string) => {
  const lines = value.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
};

/** Aligns a line diff into left/right rows: removals beside the additions that replaced them. */
export function sideBySide(before: string, after: string): SideRow[] {
  const rows: SideRow[] = [];
  let l = 1;
  let r = 1;
  const changes = diffLines(before, after);
  for (let i = 0; i < changes.length; i++) {
    const c = changes[i]!;
    const lines = splitLines(c.value);
    if (!c.added && !c.removed) {
      for (const text of lines) rows.push({ left: { line: l++, text, kind: 'same' }, right: { line: r++, text, kind: 'same' } });
      continue;
    }
    if (c.removed) {
      const next = changes[i + 1];
      const added = next?.added ? splitLines(next.value) : [];
      if (next?.added) i++;
      const n = Math.max(lines.length, added.length);
      for (let k = 0; k < n; k++) {
        const lt = lines[k];
        const rt = added[k];
        const parts = lt !== undefined && rt !== undefined ? changedParts(lt, rt) : null;
        rows.push({
          left: lt === undefined ? null : { line: l++, text: lt, kind: 'removed', ...(parts ? { parts: parts.before } : {}) },
          right: rt === undefined ? null : { line: r++, text: rt, kind: 'added', ...(parts ? { parts: parts.after } : {}) },
        });
      }
      continue;
    }
    for (const text of lines) rows.push({ left: null, right: { line: r++, text, kind: 'added' } });
  }
  return rows;
}

/** The DSL as the diff shows it: stable key order so that reordering alone is no change. */
export function dslText(dsl: unknown): string {
  const sort = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(sort);
    if (v && typeof v === 'object') {
      return Object.fromEntries(
        Object.keys(v)
          .sort()
          .map((k) => [k, sort((v as Record<string, unknown>)[k])]),
      );
    }
    return v;
  };
  return `${JSON.stringify(sort(dsl), null, 2)}\n`;
}

/** Folds unchanged stretches longer than twice the context into one marker row, as `diff -U` does. */
export function foldUnchanged(rows: SideRow[], context: number): (SideRow | { folded: number })[] {
  const out: (SideRow | { folded: number })[] = [];
  let i = 0;
  while (i < rows.length) {
    if (rows[i]!.left?.kind !== 'same') {
      out.push(rows[i]!);
      i++;
      continue;
    }
    let j = i;
    while (j < rows.length && rows[j]!.left?.kind === 'same') j++;
    const head = i === 0 ? 0 : context;
    const tail = j === rows.length ? 0 : context;
    if (j - i > head + tail + 1) {
      out.push(...rows.slice(i, i + head), { folded: j - i - head - tail }, ...rows.slice(j - tail, j));
    } else {
      out.push(...rows.slice(i, j));
    }
    i = j;
  }
  return out;
}
