import { type Review, type ReviewAction, type Role, backendMethods, reviewedMethods } from '../../preload/contract/index.js';

/** "publish v3", "promote the canary v3", "roll back to v2", with where from and a canary's share. */
export function reviewWhat(r: Pick<Review, 'action' | 'version' | 'from_version' | 'canary_percent'>): string {
  const from = r.from_version === null ? '' : ` (active: v${r.from_version})`;
  if (r.action === 'publish') return `Publish v${r.version}${r.canary_percent === null ? '' : ` as a ${r.canary_percent} % canary`}${from}`;
  if (r.action === 'promote') return `Promote the canary v${r.version}${from}`;
  return `Roll back to v${r.version}${from}`;
}

/** "in 12 min", "in 40 s", or "expired": how long a pending request still waits. */
export function expiresIn(expiresAt: string, now: number): string {
  const ms = Date.parse(expiresAt) - now;
  if (ms <= 0) return 'expired';
  const s = Math.ceil(ms / 1000);
  if (s < 60) return `in ${s} s`;
  const min = Math.ceil(s / 60);
  return min < 60 ? `in ${min} min` : `in ${Math.floor(min / 60)} h ${min % 60} min`;
}

/** The versions an approver's diff compares: from what is active to what the action makes active. */
export function diffVersions(r: Pick<Review, 'from_version' | 'version'>): { from: number; to: number } | null {
  return r.from_version === null || r.from_version === r.version ? null : { from: r.from_version, to: r.version };
}

const RANK: Record<Role, number> = { viewer: 0, operator: 1, admin: 2 };

/** Whether this role may answer a review of that action: the role the action itself needs (publishing: admin). Unknown role: the server decides. */
export function mayAnswer(role: Role | null | undefined, action: ReviewAction): { allowed: true } | { allowed: false; reason: string } {
  const needed = backendMethods[reviewedMethods[action]].role;
  if (!role || RANK[role] >= RANK[needed]) return { allowed: true };
  return { allowed: false, reason: `Answering a review of a ${action} needs the ${needed} role; you are a ${role}.` };
}
