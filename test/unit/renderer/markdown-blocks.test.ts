import { describe, expect, it } from 'vitest';
import { inlineOnly, markdownBlocks, splitRow } from '../../../renderer/runbooks/markdown-blocks.js';

describe('markdown tables', () => {
  it('splits rows on unescaped pipes, with or without the outer ones', () => {
    expect(splitRow('| a | b \\| c | d |')).toEqual(['a', 'b | c', 'd']);
    expect(splitRow('a | b')).toEqual(['a', 'b']);
  });

  it('picks tables out of the text around them, with their alignment', () => {
    const blocks = markdownBlocks(['# Title', 'intro', '', '| a | b | c |', '| :-- | :-: | --: |', '| 1 | 2 | 3 |', '| 4 |', '', 'after'].join('\n'));
    expect(blocks.map((b) => b.kind)).toEqual(['markdown', 'table', 'markdown']);
    expect(blocks[1]).toEqual({ kind: 'table', header: ['a', 'b', 'c'], align: ['left', 'center', 'right'], rows: [['1', '2', '3'], ['4', '', '']] });
    expect(blocks[2]).toEqual({ kind: 'markdown', text: '\nafter' });
  });

  it('leaves pipes in fenced code and lines without a delimiter row alone', () => {
    const md = ['```', '| a | b |', '| - | - |', '```', 'x | y', 'no table here'].join('\n');
    expect(markdownBlocks(md)).toEqual([{ kind: 'markdown', text: md }]);
  });

  it('needs as many delimiter cells as header cells', () => {
    const md = ['| a | b |', '| --- |', '| 1 | 2 |'].join('\n');
    expect(markdownBlocks(md).map((b) => b.kind)).toEqual(['markdown']);
  });
});

describe('table cells', () => {
  it('keep block markers as text and inline Markdown as it is', () => {
    expect(['#', '1.', '- x', '> q', '---', '**b**', 'a # b', '-1'].map(inlineOnly)).toEqual(['\\#', '1\\.', '\\- x', '\\> q', '\\---', '**b**', 'a # b', '-1']);
  });
});
