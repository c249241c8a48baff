import { useEffect, useMemo, useRef } from 'react';
import { useShallow } from 'zustand/react/shallow';
import { useInspector } from '../store/inspector-store.js';
import { selectNodeStates } from '../store/selectors.js';
import { layoutDag, NODE_H, NODE_W } from './dag-layout.js';

/** Node types that do real work on a server (DESIGN: the workflow DSL and its executors); the rest are simulated. */
export const REAL_NODE_TYPES: ReadonlySet<string> = new Set(['http', 'command', 'wait', 'approval']);
const CORNER = 14;

/** The run's DAG, each node coloured by its checkpoint state; a node opens its latest checkpoint. */
export function DagView() {
  const dsl = useInspector((s) => s.dsl);
  const states = useInspector(useShallow(selectNodeStates));
  const selectedNode = useInspector((s) => s.checkpoints.find((c) => c.seq === s.selectedSeq)?.node_id ?? null);
  const layout = useMemo(() => (dsl ? layoutDag(dsl) : null), [dsl]);
  const boxRef = useRef<HTMLDivElement>(null);
  const failedNode = Object.entries(states).find(([, s]) => s === 'failed')?.[0] ?? null;
  useEffect(() => {
    // Drawn at its own size (readable, never shrunk): a graph wider than the pane scrolls, so bring the failed node into view.
    const box = boxRef.current;
    const node = failedNode ? box?.querySelector<SVGGElement>(`[data-node-id="${CSS.escape(failedNode)}"]`) : null;
    if (!box || !node) return;
    const b = box.getBoundingClientRect();
    const n = node.getBoundingClientRect();
    if (n.left < b.left || n.right > b.right) box.scrollLeft += n.left - b.left - (b.width - n.width) / 2;
  }, [failedNode, layout]);
  if (!layout) return null;
  const anyReal = layout.nodes.some((n) => REAL_NODE_TYPES.has(n.type));

  return (
    <div className="dag" data-testid="dag" ref={boxRef}>
      <svg
        viewBox={`0 0 ${layout.width} ${layout.height}`}
        width={layout.width}
        height={layout.height}
        role="group"
        aria-label="Run graph"
      >
        <defs>
          <marker id="dag-arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
            <path d="M0,0 L10,5 L0,10 z" className="dag-arrow" />
          </marker>
        </defs>
        {layout.edges.map((e) => (
          <path key={`${e.from}-${e.to}`} d={e.path} className="dag-edge" markerEnd="url(#dag-arrow)" />
        ))}
        {layout.nodes.map((n) => {
          const state = states[n.id] ?? 'pending';
          const select = () => useInspector.getState().selectNode(n.id);
          const real = REAL_NODE_TYPES.has(n.type);
          return (
            <g
              key={n.id}
              transform={`translate(${n.x},${n.y})`}
              className={n.id === selectedNode ? 'dag-node is-selected' : 'dag-node'}
              data-state={state}
              data-testid="dag-node"
              data-node-id={n.id}
              data-work={real ? 'real' : 'simulated'}
              role="button"
              tabIndex={0}
              onClick={select}
              onKeyDown={(e) => {
                if (e.key === 'Enter' || e.key === ' ') {
                  e.preventDefault();
                  select();
                }
              }}
            >
              {/* The whole name and the kind of work, on hover and for assistive technology. */}
              <title>{`${n.label}: ${n.type}, ${real ? 'real work' : 'simulated'}, ${state}`}</title>
              <rect width={NODE_W} height={NODE_H} rx={6} />
              {real ? <path d={`M${NODE_W - CORNER},0 H${NODE_W - 6} Q${NODE_W},0 ${NODE_W},6 V${CORNER} Z`} className="dag-real-mark" data-testid="dag-real-mark" /> : null}
              {/* HTML inside the node so a long name wraps onto a second line instead of being cut. */}
              <foreignObject x={8} y={4} width={NODE_W - 8 - CORNER} height={NODE_H - 8}>
                <div className="dag-text">
                  <span className="dag-label" data-testid="dag-label">
                    {n.label}
                  </span>
                  <span className="dag-sub">
                    {n.type} · {state}
                  </span>
                </div>
              </foreignObject>
            </g>
          );
        })}
      </svg>
      {anyReal ? (
        <p className="muted dag-legend" data-testid="dag-legend">
          <span className="dag-legend-mark" aria-hidden="true" /> real work (http, command, wait, approval): done for real on a server, simulated in a sandbox unless it runs live; the other nodes are always simulated.
        </p>
      ) : null}
    </div>
  );
}
