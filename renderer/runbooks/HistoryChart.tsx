import { useMemo } from 'react';
import type { StoredRehearsal } from '../../preload/contract/index.js';
import { formatShortTime } from '../shared/format.js';
import { chartModel } from './history-chart.js';
import { formatDuration } from '../../preload/contract/index.js';

const CROSS = 5;

/** Time to recover per rehearsal, with the plan's total as a reference line; a failed one is a cross, a passed one a dot. */
export function HistoryChart({ rehearsals, planMs, onOpen }: { rehearsals: readonly StoredRehearsal[]; planMs: number; onOpen: (id: string) => void }) {
  const m = useMemo(() => chartModel(rehearsals, planMs), [rehearsals, planMs]);
  const first = m.points[0];
  const last = m.points[m.points.length - 1];
  return (
    <svg
      className="history-chart"
      viewBox={`0 0 ${m.width} ${m.height}`}
      role="img"
      aria-label={`Time to recover over ${m.points.length} rehearsals; plan ${formatDuration(planMs)}`}
      data-testid="history-chart"
      data-points={m.points.length}
    >
      <line className="chart-axis" x1={m.plot.left} y1={m.plot.bottom} x2={m.plot.right} y2={m.plot.bottom} />
      <line className="chart-axis" x1={m.plot.left} y1={m.plot.top} x2={m.plot.left} y2={m.plot.bottom} />
      <text className="chart-label" x={m.plot.left - 6} y={m.plot.bottom} textAnchor="end" dominantBaseline="middle">
        0
      </text>
      <text className="chart-label" x={m.plot.left - 6} y={m.plot.top} textAnchor="end" dominantBaseline="middle">
        {formatDuration(m.yMaxMs)}
      </text>
      <line className="chart-plan" x1={m.plot.left} y1={m.planY} x2={m.plot.right} y2={m.planY} data-testid="history-plan-line" />
      <text className="chart-label chart-plan-label" x={m.plot.right} y={m.planY - 4} textAnchor="end">
        plan {formatDuration(planMs)}
      </text>
      {m.points.length > 1 ? <polyline className="chart-line" points={m.points.map((p) => `${p.x},${p.y}`).join(' ')} /> : null}
      {m.points.map((p) => (
        <g
          key={p.id}
          className={p.passed ? 'chart-point is-passed' : 'chart-point is-failed'}
          data-testid="history-point"
          data-passed={p.passed ? 'true' : 'false'}
          data-total-ms={p.totalMs}
          onClick={() => onOpen(p.id)}
        >
          <title>{`${formatShortTime(p.startedAt)} · ${p.passed ? 'passed' : 'failed'} · ${formatDuration(p.totalMs)}`}</title>
          {p.passed ? (
            <circle cx={p.x} cy={p.y} r={4.5} />
          ) : (
            <path d={`M${p.x - CROSS},${p.y - CROSS} L${p.x + CROSS},${p.y + CROSS} M${p.x - CROSS},${p.y + CROSS} L${p.x + CROSS},${p.y - CROSS}`} />
          )}
        </g>
      ))}
      {first ? (
        <text className="chart-label" x={m.plot.left} y={m.height - 8}>
          {formatShortTime(first.startedAt)}
        </text>
      ) : null}
      {last && last !== first ? (
        <text className="chart-label" x={m.plot.right} y={m.height - 8} textAnchor="end">
          {formatShortTime(last.startedAt)}
        </text>
      ) : null}
    </svg>
  );
}
