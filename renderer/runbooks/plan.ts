import { type RewindErrorData, type RollbackLevel, levelTargetMs } from '../../preload/contract/index.js';

/** Whether a plan fits its level's target: an operator should see at once when it cannot. */
export function planFit(planned: number, level: RollbackLevel | null): 'within' | 'over' | null {
  if (level === null) return null;
  const { max } = levelTargetMs[level];
  return max === null || planned <= max ? 'within' : 'over';
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

/** paced: it timed an operator; automatic: it timed the machine (CI). */
export const paceLabel = (pace: 'paced' | 'automatic'): string => (pace === 'paced' ? 'paced' : 'automatic (CI)');
