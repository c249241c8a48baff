// @vitest-environment happy-dom
import { cleanup, render, screen } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import { DiffSummary } from '../../../renderer/diff/DiffSummary.js';
import { DslSideBySide } from '../../../renderer/diff/DslSideBySide.js';
import { aroundChanges, changedParts } from '../../../renderer/diff/inline-diff.js';
import { sideBySide } from '../../../renderer/diff/side-by-side.js';

afterEach(cleanup);

const marked = (el: HTMLElement, tag: 'del' | 'ins') => [...el.querySelectorAll(tag)].map((m) => m.textContent);

describe('changed parts', () => {
  it('marks the characters that changed when the values share most of their text', () => {
    const { before, after } = changedParts('"registry-v1"', '"registry-v2"');
    expect(before.filter((p) => p.kind === 'changed').map((p) => p.text)).toEqual(['1']);
    expect(after.filter((p) => p.kind === 'changed').map((p) => p.text)).toEqual(['2']);
  });

  it('marks whole words when the values have little in common', () => {
    const { before, after } = changedParts('"fast lane"', '"slow queue"');
    expect(after.filter((p) => p.kind === 'changed').map((p) => p.text)).toEqual(['slow', 'queue']);
    expect(before.filter((p) => p.kind === 'changed').map((p) => p.text)).toEqual(['fast', 'lane']);
  });

  it('elides unchanged text far from a change, keeping context either side', () => {
    const long = 'x'.repeat(100);
    const { after } = changedParts(`${long}A${long}`, `${long}B${long}`);
    const shown = aroundChanges(after, 5);
    expect(shown.map((p) => (p.kind === 'gap' ? '…' : p.text)).join('')).toBe('…xxxxxBxxxxx…');
  });
});

describe('the diff summary', () => {
  it('shows where a long value changed, not its start cut off with "…"', () => {
    const prefix = 's3://ml-models/defect-classifier/checkpoints/2026-11/epoch-';
    render(
      <DiffSummary
        diff={{ added: [], removed: [], identical: false, defaults_changed: [], changed: [{ node_id: 'deploy', changes: [{ path: 'params.uri', before: `${prefix}19`, after: `${prefix}20` }] }] }}
      />,
    );
    const before = screen.getByTestId('diff-before');
    const after = screen.getByTestId('diff-after');
    expect(marked(before, 'del')).toEqual(['19']);
    expect(marked(after, 'ins')).toEqual(['20']);
    expect(after.textContent).toContain('epoch-20"');
    expect(after.getAttribute('title')).toBe(JSON.stringify(`${prefix}20`));
  });
});

describe('the side-by-side DSL', () => {
  it('marks the changed part of a line that replaced another', () => {
    const rows = sideBySide('a\n  "accuracy": 0.9,\nz\n', 'a\n  "accuracy": 0.85,\nz\n');
    const changed = rows.find((r) => r.left?.kind === 'removed')!;
    expect(changed.left?.parts?.filter((p) => p.kind === 'changed').map((p) => p.text)).toEqual(['9']);
    expect(changed.right?.parts?.filter((p) => p.kind === 'changed').map((p) => p.text)).toEqual(['85']);
    render(<DslSideBySide before={{ min_accuracy: 0.9 }} after={{ min_accuracy: 0.85 }} beforeLabel="v1" afterLabel="v2" />);
    const table = screen.getByTestId('dsl-diff');
    expect(marked(table, 'del')).toEqual(['9']);
    expect(marked(table, 'ins')).toEqual(['85']);
  });
});
