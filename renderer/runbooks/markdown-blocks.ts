/**
 * GitHub-style pipe tables, picked out of Markdown so the report renders them without remark-gfm
 * (not a dependency here): everything else stays Markdown for react-markdown.
 */
export type MarkdownBlock =
  | { kind: 'markdown'; text: string }
  | { kind: 'table'; header: string[]; align: ('left' | 'center' | 'right' | null)[]; rows: string[][] };

const FENCE = /^\s{0,3}(```|~~~)/;
const DELIMITER_CELL = /^\s*:?-+:?\s*$/;

/** The cells of a pipe row: split on pipes not escaped with `\`, outer pipes optional, `\|` unescaped. */
export function splitRow(line: string): string[] {
  let s = line.trim();
  if (s.startsWith('|')) s = s.slice(1);
  if (s.endsWith('|') && !s.endsWith('\\|')) s = s.slice(0, -1);
  const cells: string[] = [];
  let cell = '';
  for (let i = 0; i < s.length; i++) {
    const ch = s[i]!;
    if (ch === '\\' && s[i + 1] === '|') {
      cell += '|';
      i++;
    } else if (ch === '|') {
      cells.push(cell.trim());
      cell = '';
    } else {
      cell += ch;
    }
  }
  cells.push(cell.trim());
  return cells;
}

function delimiter(line: string, columns: number): ('left' | 'center' | 'right' | null)[] | null {
  if (!line.includes('-')) return null;
  const cells = splitRow(line);
  if (cells.length !== columns || !cells.every((c) => DELIMITER_CELL.test(c))) return null;
  return cells.map((c) => {
    const left = c.startsWith(':');
    const right = c.endsWith(':');
    return left && right ? 'center' : right ? 'right' : left ? 'left' : null;
  });
}

/** Splits Markdown into its tables and the Markdown around them; fenced code is never a table. */
export function markdownBlocks(markdown: string): MarkdownBlock[] {
  const lines = markdown.split('\n');
  const blocks: MarkdownBlock[] = [];
  let text: string[] = [];
  let fenced = false;
  const flush = () => {
    if (text.some((l) => l.trim() !== '')) blocks.push({ kind: 'markdown', text: text.join('\n') });
    text = [];
  };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (FENCE.test(line)) fenced = !fenced;
    const next = lines[i + 1];
    const header = !fenced && line.includes('|') && next !== undefined ? splitRow(line) : null;
    const align = header ? delimiter(next!, header.length) : null;
    if (!header || !align) {
      text.push(line);
      continue;
    }
    flush();
    const rows: string[][] = [];
    i += 2;
    while (i < lines.length && lines[i]!.includes('|') && lines[i]!.trim() !== '') {
      const cells = splitRow(lines[i]!);
      // As GFM does: short rows are padded, extra cells dropped.
      rows.push(header.map((_, k) => cells[k] ?? ''));
      i++;
    }
    i--;
    blocks.push({ kind: 'table', header, align, rows });
  }
  flush();
  return blocks;
}

/**
 * A cell's text made safe to parse as inline Markdown: a cell never holds a heading, a list or a
 * rule, so a leading `#`, `-`, `1.`, `>` or `---` is escaped to stay text (`#` in the steps table).
 */
export function inlineOnly(cell: string): string {
  if (/^([-*_])(\s*\1){2,}\s*$/.test(cell)) return `\\${cell}`;
  return cell.replace(/^(#{1,6}|[>+\-*]|\d+[.)])(?=\s|$)/, (marker) => marker.replace(/[#>+\-*.)]/g, (c) => `\\${c}`));
}
