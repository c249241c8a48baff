import { useMemo } from 'react';
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
  if (!layout) return null;
  const anyReal = layout.nodes.some((n) => REAL_NODE_TYPES.has(n.type));

  return (
    <div className="dag" data-testid="dag">
      <svg
        viewBox={`0 0 ${layout.width} ${layout.height}`}
        // Shrinks to fit so the last node (often the failed one) is in view; past that the box scrolls.
        style={{ width: '100%', maxWidth: layout.width, minWidth: Math.min(layout.width, 640) }}
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
          const shown = n.label.length > 18 ? `${n.label.slice(0, 17)}…` : n.label;
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
              <text x={10} y={17} className="dag-label">
                {shown}
              </text>
              <text x={10} y={32} className="dag-sub">
                {n.type} · {state}
              </text>
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
