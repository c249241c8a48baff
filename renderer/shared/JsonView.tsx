import { useMemo, useState } from 'react';
import { prettyJson } from './format.js';

/** Pretty JSON with a search that marks matching lines and a copy button. */
export function JsonView({
  value,
  query,
  onQueryChange,
  label,
  testId,
}: {
  value: unknown;
  query: string;
  onQueryChange: (q: string) => void;
  label: string;
  testId: string;
}) {
  const text = useMemo(() => prettyJson(value), [value]);
  const lines = useMemo(() => text.split('\n'), [text]);
  const q = query.trim().toLowerCase();
  const matches = useMemo(() => (q ? lines.reduce((n, l) => n + (l.toLowerCase().includes(q) ? 1 : 0), 0) : 0), [lines, q]);
  const [copied, setCopied] = useState<'idle' | 'copied' | 'failed'>('idle');

  const copy = async () => {
    try {
      await navigator.clipboard.writeText(text);
      setCopied('copied');
    } catch {
      setCopied('failed');
    }
    setTimeout(() => setCopied('idle'), 1500);
  };

  return (
    <div className="json-view" data-testid={testId}>
      <div className="json-toolbar">
        <input
          type="search"
          className="input"
          placeholder="Search the state…"
          aria-label={`Search ${label}`}
          value={query}
          onChange={(e) => onQueryChange(e.target.value)}
          data-testid={`${testId}-search`}
        />
        <span className="muted" aria-live="polite" data-testid={`${testId}-matches`}>
          {q ? `${matches} matching line${matches === 1 ? '' : 's'}` : `${lines.length} lines`}
        </span>
        <button type="button" className="btn" onClick={() => void copy()} data-testid={`${testId}-copy`}>
          {copied === 'copied' ? 'Copied' : copied === 'failed' ? 'Copy failed' : 'Copy JSON'}
        </button>
      </div>
      <pre className="json-body" aria-label={label} tabIndex={0}>
        {lines.map((l, i) => (
          <span key={i} className={q && l.toLowerCase().includes(q) ? 'json-line is-match' : 'json-line'}>
            {l}
            {'\n'}
          </span>
        ))}
      </pre>
    </div>
  );
}
