import { diffChars, diffWordsWithSpace, type ChangeObject } from 'diff';

/** A stretch of one side's text: kept, changed (removed on the left, added on the right), or elided. */
export interface Part {
  text: string;
  kind: 'same' | 'changed' | 'gap';
}

/**
 * What changed between two renderings of a value, as parts of each side. Characters when the two
 * share most of their text (`0.9` → `0.85`, `registry-v1` → `registry-v2`); whole words when they
 * don't, so that unrelated values read as one replacement rather than confetti.
 */
export function changedParts(before: string, after: string): { before: Part[]; after: Part[] } {
  let changes: ChangeObject<string>[] = diffChars(before, after);
  const kept = changes.reduce((n, c) => (c.added || c.removed ? n : n + c.value.length), 0);
  if (kept * 2 < Math.max(before.length, after.length)) changes = diffWordsWithSpace(before, after);
  const left: Part[] = [];
  const right: Part[] = [];
  for (const c of changes) {
    if (c.removed) left.push({ text: c.value, kind: 'changed' });
    else if (c.added) right.push({ text: c.value, kind: 'changed' });
    else {
      left.push({ text: c.value, kind: 'same' });
      right.push({ text: c.value, kind: 'same' });
    }
  }
  return { before: left, after: right };
}

/**
 * Keeps every changed part and `context` characters of unchanged text either side of it; longer
 * unchanged stretches become a gap, so a long value shows where it changed instead of its start.
 */
export function aroundChanges(parts: Part[], context: number): Part[] {
  if (!parts.some((p) => p.kind === 'changed')) {
    const all = parts.map((p) => p.text).join('');
    return all.length > context * 2 ? [{ text: all.slice(0, context * 2), kind: 'same' }, { text: '…', kind: 'gap' }] : [{ text: all, kind: 'same' }];
  }
  const out: Part[] = [];
  parts.forEach((p, i) => {
    if (p.kind !== 'same') return out.push(p);
    const first = i === 0;
    const last = i === parts.length - 1;
    const keepHead = first ? 0 : context;
    const keepTail = last ? 0 : context;
    if (p.text.length <= keepHead + keepTail + 1) return out.push(p);
    if (keepHead > 0) out.push({ text: p.text.slice(0, keepHead), kind: 'same' });
    out.push({ text: '…', kind: 'gap' });
    if (keepTail > 0) out.push({ text: p.text.slice(-keepTail), kind: 'same' });
  });
  return out;
}
