import type { Role } from '../../../preload/contract/index.js';
import { RewindError } from '../../engine/errors.js';

/*
 * `--oidc-roles "admin=G1,G2;operator=G3;viewer=*"`: which groups of the identity provider give which
 * role, as Argo's RBAC rules on groups and Grafana's role-from-claim do. `*` is any signed-in person.
 * A person in several mapped groups gets the highest of their roles.
 */

export const roleOrder: readonly Role[] = ['admin', 'operator', 'viewer'];

/** Role → the groups that give it (`*`: everyone signed in). */
export type RoleMapping = Readonly<Record<Role, readonly string[]>>;

export const ANYONE = '*';

/** Parses the flag's text; a mistake is refused naming the part and what was expected. */
export function parseRoleMapping(text: string): RoleMapping {
  const mapping: Record<Role, string[]> = { admin: [], operator: [], viewer: [] };
  const hint = 'Write it as "admin=GROUP,GROUP;operator=GROUP;viewer=*" (roles admin, operator, viewer; * is any signed-in person).';
  const parts = text
    .split(';')
    .map((p) => p.trim())
    .filter((p) => p !== '');
  if (parts.length === 0) throw new RewindError('VALIDATION_FAILED', '--oidc-roles maps no group to a role.', hint);
  for (const part of parts) {
    const eq = part.indexOf('=');
    const role = (eq === -1 ? part : part.slice(0, eq)).trim();
    if (!roleOrder.includes(role as Role)) throw new RewindError('VALIDATION_FAILED', `--oidc-roles: "${role}" is not a role.`, hint);
    if (mapping[role as Role].length > 0) throw new RewindError('VALIDATION_FAILED', `--oidc-roles names ${role} twice.`, `${hint} List all of a role's groups in one entry.`);
    const groups = (eq === -1 ? '' : part.slice(eq + 1))
      .split(',')
      .map((g) => g.trim())
      .filter((g) => g !== '');
    if (groups.length === 0) throw new RewindError('VALIDATION_FAILED', `--oidc-roles: ${role} has no group.`, hint);
    mapping[role as Role] = groups;
  }
  return mapping;
}

/** The highest role the groups give, or null when none does. */
export function roleFor(groups: readonly string[], mapping: RoleMapping): Role | null {
  const held = new Set(groups);
  for (const role of roleOrder) {
    if (mapping[role].some((g) => g === ANYONE || held.has(g))) return role;
  }
  return null;
}

/** The groups that would give `role` or a higher one (what to ask the provider's admin for). */
export function groupsGiving(role: Role, mapping: RoleMapping): string[] {
  const at = roleOrder.indexOf(role);
  return [...new Set(roleOrder.slice(0, at + 1).flatMap((r) => mapping[r]))];
}

/** "admin: G1, G2; operator: G3" — the mapping as an operator reads it in a message. */
export function describeMapping(mapping: RoleMapping): string {
  return roleOrder
    .filter((r) => mapping[r].length > 0)
    .map((r) => `${r}: ${mapping[r].join(', ')}`)
    .join('; ');
}
