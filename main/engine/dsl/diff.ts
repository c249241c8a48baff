import microdiff from 'microdiff';
import type { Dsl, DslDiff, DslNode } from '../../../preload/contract/entities.js';

/*
 * What changed between two versions of a DSL, for the version diff and the rollback preview.
 * Nodes are matched by id. Paths are dotted (`params.rules.0.value`); an absent value is reported
 * as null so the diff survives JSON unchanged. The order of `dsl.nodes` alone is not a change.
 */

type Change = DslDiff['defaults_changed'][number];

function deepChanges(before: Record<string, unknown>, after: Record<string, unknown>, prefix: string): Change[] {
  return microdiff(before, after).map((d) => ({
    path: [prefix, ...d.path.map(String)].filter((s) => s !== '').join('.'),
    before: d.type === 'CREATE' ? null : (d.oldValue as unknown),
    after: d.type === 'REMOVE' ? null : (d.value as unknown),
  }));
}

function nodeChanges(a: DslNode, b: DslNode): Change[] {
  const changes: Change[] = [];
  if (a.type !== b.type) changes.push({ path: 'type', before: a.type, after: b.type });
  if (a.name !== b.name) changes.push({ path: 'name', before: a.name ?? null, after: b.name ?? null });
  changes.push(...deepChanges(a.params, b.params, 'params'));
  // `next` is read as a whole ("a then b, c"): index-by-index changes would be noise after an insert.
  if (a.next.length !== b.next.length || a.next.some((id, i) => id !== b.next[i])) {
    changes.push({ path: 'next', before: a.next, after: b.next });
  }
  return changes;
}

/** The structural diff from `a` (before) to `b` (after). */
export function diffDsl(a: Dsl, b: Dsl): DslDiff {
  const before = new Map(a.nodes.map((n) => [n.id, n]));
  const after = new Map(b.nodes.map((n) => [n.id, n]));
  const added = b.nodes.filter((n) => !before.has(n.id)).map((n) => n.id);
  const removed = a.nodes.filter((n) => !after.has(n.id)).map((n) => n.id);
  const changed: DslDiff['changed'] = [];
  for (const node of b.nodes) {
    const old = before.get(node.id);
    if (old === undefined) continue;
    const changes = nodeChanges(old, node);
    if (changes.length > 0) changed.push({ node_id: node.id, changes });
  }
  const defaults_changed = deepChanges(a.defaults, b.defaults, '');
  const params_changed = deepChanges(a.params ?? {}, b.params ?? {}, '');
  const identical = added.length === 0 && removed.length === 0 && changed.length === 0 && defaults_changed.length === 0 && params_changed.length === 0;
  return { added, removed, changed, defaults_changed, params_changed, identical };
}
