import type { Dsl } from '../../preload/contract/index.js';

export interface LaidNode {
  id: string;
  type: string;
  label: string;
  x: number;
  y: number;
}
export interface LaidEdge {
  from: string;
  to: string;
  path: string;
}
export interface DagLayout {
  nodes: LaidNode[];
  edges: LaidEdge[];
  width: number;
  height: number;
}

export const NODE_W = 150;
/** Room for a name on two lines and the node's type and state below it. */
export const NODE_H = 58;
const GAP_X = 44;
const GAP_Y = 22;
const PAD = 12;

/** Left-to-right layers by longest path from a root; each layer stacked top to bottom in DSL order. */
export function layoutDag(dsl: Dsl): DagLayout {
  const ids = new Set(dsl.nodes.map((n) => n.id));
  const preds = new Map<string, string[]>();
  for (const n of dsl.nodes) for (const m of n.next) if (ids.has(m)) preds.set(m, [...(preds.get(m) ?? []), n.id]);

  const layer = new Map<string, number>();
  const visiting = new Set<string>();
  const depth = (id: string): number => {
    const known = layer.get(id);
    if (known !== undefined) return known;
    // The engine validates DSLs as acyclic; this guard only keeps a malformed one from hanging the UI.
    if (visiting.has(id)) return 0;
    visiting.add(id);
    const d = Math.max(-1, ...(preds.get(id) ?? []).map(depth)) + 1;
    visiting.delete(id);
    layer.set(id, d);
    return d;
  };
  const rows = new Map<number, number>();
  const pos = new Map<string, { x: number; y: number }>();
  const nodes: LaidNode[] = dsl.nodes.map((n) => {
    const l = depth(n.id);
    const r = rows.get(l) ?? 0;
    rows.set(l, r + 1);
    const x = PAD + l * (NODE_W + GAP_X);
    const y = PAD + r * (NODE_H + GAP_Y);
    pos.set(n.id, { x, y });
    return { id: n.id, type: n.type, label: n.name ?? n.id, x, y };
  });
  const edges: LaidEdge[] = [];
  for (const n of dsl.nodes) {
    const a = pos.get(n.id)!;
    for (const m of n.next) {
      const b = pos.get(m);
      if (!b) continue;
      const x1 = a.x + NODE_W;
      const y1 = a.y + NODE_H / 2;
      const x2 = b.x;
      const y2 = b.y + NODE_H / 2;
      const mx = (x1 + x2) / 2;
      edges.push({ from: n.id, to: m, path: `M${x1},${y1} C${mx},${y1} ${mx},${y2} ${x2},${y2}` });
    }
  }
  const layers = Math.max(0, ...layer.values()) + 1;
  const maxRows = Math.max(1, ...rows.values());
  return { nodes, edges, width: PAD * 2 + layers * NODE_W + (layers - 1) * GAP_X, height: PAD * 2 + maxRows * NODE_H + (maxRows - 1) * GAP_Y };
}
