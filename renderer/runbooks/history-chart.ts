import type { StoredRehearsal } from '../../preload/contract/index.js';

export interface ChartPoint {
  id: string;
  x: number;
  y: number;
  passed: boolean;
  totalMs: number;
  startedAt: string;
}

export interface ChartModel {
  width: number;
  height: number;
  points: ChartPoint[];
  /** The plan's total, as a horizontal reference line. */
  planY: number;
  /** The top of the y axis, in ms. */
  yMaxMs: number;
  plot: { left: number; right: number; top: number; bottom: number };
}

export const CHART = { width: 560, height: 200, left: 84, right: 16, top: 14, bottom: 28 } as const;

/**
 * Time to recover per rehearsal, oldest on the left, evenly spaced (rehearsals come in bursts, so a
 * time axis would pile them up); the y axis starts at zero and leaves room above the plan and the slowest.
 */
export function chartModel(rehearsals: readonly StoredRehearsal[], planMs: number): ChartModel {
  const { width, height, left, right, top, bottom } = CHART;
  const ordered = [...rehearsals].sort((a, b) => (a.started_at < b.started_at ? -1 : a.started_at > b.started_at ? 1 : 0));
  const yMaxMs = Math.max(planMs, ...ordered.map((r) => r.total_ms), 1) * 1.15;
  const plotW = width - left - right;
  const plotH = height - top - bottom;
  const y = (ms: number) => top + plotH - (ms / yMaxMs) * plotH;
  const x = (i: number) => (ordered.length <= 1 ? left + plotW / 2 : left + (i / (ordered.length - 1)) * plotW);
  return {
    width,
    height,
    points: ordered.map((r, i) => ({ id: r.id, x: x(i), y: y(r.total_ms), passed: r.passed, totalMs: r.total_ms, startedAt: r.started_at })),
    planY: y(planMs),
    yMaxMs,
    plot: { left, right: width - right, top, bottom: top + plotH },
  };
}
