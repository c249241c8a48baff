import type { RewindErrorData, RollbackLevel, Runbook } from '../../preload/contract/index.js';

const MIN = 60_000;

/** Seed 003's recovery-time target per rollback level (a full system has no upper bound). */
export const LEVEL_TARGET_MS: Record<RollbackLevel, { min: number; max: number | null }> = {
  application: { min: 5 * MIN, max: 10 * MIN },
  configuration: { min: 2 * MIN, max: 5 * MIN },
  database: { min: 30 * MIN, max: 60 * MIN },
  'full-system': { min: 60 * MIN, max: null },
};

export const plannedMs = (runbook: Runbook): number => runbook.steps.reduce((sum, s) => sum + s.expected_ms, 0);

export function targetText(level: RollbackLevel): string {
  const { min, max } = LEVEL_TARGET_MS[level];
  return max === null ? `${min / MIN}+ min` : `${min / MIN}–${max / MIN} min`;
}

/** Whether a plan fits its level's target: an operator should see at once when it cannot. */
export function planFit(planned: number, level: RollbackLevel | null): 'within' | 'over' | null {
  if (level === null) return null;
  const { max } = LEVEL_TARGET_MS[level];
  return max === null || planned <= max ? 'within' : 'over';
}

/** `6 min 30 s`, `12.5 s`, `800 ms`: a duration read at a glance. */
export function formatMs(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)} s`;
  const m = Math.floor(s / 60);
  const rest = Math.round(s - m * 60);
  return rest === 0 ? `${m} min` : `${m} min ${rest} s`;
}

/** `0:07`, `12:34`, `1:02:03`: a running clock. */
export function formatClock(ms: number): string {
  const total = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = String(total % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${s}` : `${m}:${s}`;
}

/** Where a refused runbook is at fault: its 1-based step and the field in it, from the error's path. */
export function faultLocation(error: RewindErrorData): { step: number | null; field: string | null } {
  const path = typeof error.details?.path === 'string' ? error.details.path : null;
  if (path !== null) {
    const parts = path.split('.').filter(Boolean);
    if (parts[0] === 'steps' && parts[1] !== undefined && /^\d+$/.test(parts[1])) {
      return { step: Number(parts[1]) + 1, field: parts.slice(2).join('.') || null };
    }
    return { step: null, field: parts.join('.') || null };
  }
  // Older servers send only the message: "Step 3 ('Roll back'): action.to: expected …".
  const m = /^Step (\d+) \('.*?'\): (?:([\w.-]+): )?/.exec(error.message);
  return m ? { step: Number(m[1]), field: m[2] ?? null } : { step: null, field: null };
}
