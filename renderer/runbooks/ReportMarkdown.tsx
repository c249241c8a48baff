import { useMemo } from 'react';
import Markdown from 'react-markdown';
import { inlineOnly, markdownBlocks } from './markdown-blocks.js';

/** What a table cell may hold: inline Markdown only (a paragraph around it is unwrapped). */
const INLINE = ['strong', 'em', 'code', 'a', 'del'];

function Cell({ text }: { text: string }) {
  return (
    <Markdown skipHtml allowedElements={INLINE} unwrapDisallowed>
      {inlineOnly(text)}
    </Markdown>
  );
}

/** A report's Markdown, its pipe tables rendered as tables; raw HTML is dropped, never rendered. */
export function ReportMarkdown({ markdown }: { markdown: string }) {
  const blocks = useMemo(() => markdownBlocks(markdown), [markdown]);
  return (
    <>
      {blocks.map((b, i) =>
        b.kind === 'markdown' ? (
          <Markdown key={i} skipHtml>
            {b.text}
          </Markdown>
        ) : (
          <div key={i} className="report-table-wrap">
            <table className="report-table" data-testid="report-table">
              <thead>
                <tr>
                  {b.header.map((h, k) => (
                    <th key={k} scope="col" style={b.align[k] ? { textAlign: b.align[k] } : undefined}>
                      <Cell text={h} />
                    </th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {b.rows.map((row, r) => (
                  <tr key={r}>
                    {row.map((c, k) => (
                      <td key={k} style={b.align[k] ? { textAlign: b.align[k] } : undefined}>
                        <Cell text={c} />
                      </td>
                    ))}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        ),
      )}
    </>
  );
}
