import { useAudit } from '../store/audit-store.js';
import { useConnections } from '../store/connections-store.js';
import { useInspector } from '../store/inspector-store.js';
import { useRollback } from '../store/rollback-store.js';
import { useRuns } from '../store/runs-store.js';
import { useTimeline } from '../store/timeline-store.js';
import { useUi } from '../store/ui-store.js';
import { useWorkflows } from '../store/workflows-store.js';

export interface Command {
  id: string;
  group: string;
  title: string;
  run: () => void;
}

const go = (view: 'workflows' | 'runs' | 'audit') => () => useUi.getState().setView(view);

/** Every action the console offers, built from what is loaded now. */
export function buildCommands(): Command[] {
  const cmds: Command[] = [
    { id: 'view:workflows', group: 'Go to', title: 'Workflows and timeline', run: go('workflows') },
    { id: 'view:runs', group: 'Go to', title: 'Runs', run: go('runs') },
    { id: 'view:audit', group: 'Go to', title: 'Audit log', run: go('audit') },
    { id: 'theme', group: 'Console', title: 'Toggle light / dark theme', run: () => useUi.getState().toggleTheme() },
    { id: 'connection:add', group: 'Console', title: 'Add a workflow server…', run: () => useUi.getState().setAddConnectionOpen(true) },
    {
      id: 'chain:verify',
      group: 'Audit',
      title: 'Verify the hash chain',
      run: () => {
        useUi.getState().setView('audit');
        void useAudit.getState().verify();
      },
    },
    {
      id: 'runs:failed',
      group: 'Runs',
      title: 'Show failed runs',
      run: () => {
        useUi.getState().setView('runs');
        void useRuns.getState().setFilter({ status: 'failed' });
      },
    },
  ];

  for (const c of useConnections.getState().connections) {
    if (c.selected) continue;
    cmds.push({ id: `connection:${c.id}`, group: 'Switch connection', title: `${c.name} (${c.environment})`, run: () => void useConnections.getState().select(c.id) });
  }

  const { workflows, selectedId } = useWorkflows.getState();
  for (const w of workflows) {
    cmds.push({
      id: `workflow:${w.id}`,
      group: 'Open workflow',
      title: w.name,
      run: () => {
        useWorkflows.getState().select(w.id);
        useUi.getState().setView('workflows');
      },
    });
  }

  const current = workflows.find((w) => w.id === selectedId);
  if (current) {
    cmds.push({
      id: `pause:${current.id}`,
      group: current.name,
      title: current.status === 'active' ? `Pause ${current.name}` : `Unpause ${current.name}`,
      run: () => void useWorkflows.getState().togglePause(current.id),
    });
    const timeline = useTimeline.getState();
    if (timeline.workflowId === current.id) {
      // The most recent versions are the ones an operator rolls back to; older ones stay reachable from the timeline.
      for (const v of timeline.versions.slice(0, 50)) {
        if (v.status === 'active') continue;
        cmds.push({
          id: `rollback:${current.id}:${v.version}`,
          group: current.name,
          title: `Roll back ${current.name} to v${v.version} (${v.status})`,
          run: () => void useRollback.getState().openFor(current.id, v.version),
        });
      }
    }
  }

  const openRun = (runId: string) => () => {
    useUi.getState().setView('runs');
    void useInspector.getState().open(runId);
  };
  for (const r of useRuns.getState().runs.slice(0, 200)) {
    cmds.push({ id: `run:${r.run_id}`, group: 'Open run', title: `${r.run_id} · ${r.status} · v${r.version}`, run: openRun(r.run_id) });
  }

  const run = useInspector.getState().run;
  if (run && (run.status === 'failed' || run.status === 'interrupted')) {
    cmds.push({ id: 'run:resume', group: 'This run', title: `Resume ${run.run_id} from its checkpoint`, run: () => void useInspector.getState().resumeRun() });
  }
  if (run && run.status !== 'running' && run.status !== 'queued') {
    cmds.push({ id: 'run:replay', group: 'This run', title: `Replay ${run.run_id} on the chosen version`, run: () => void useInspector.getState().replayRun() });
  }
  return cmds;
}

/** Every word of the query must appear in the title or group, in any order. */
export function filterCommands(cmds: Command[], query: string): Command[] {
  const words = query.toLowerCase().split(/\s+/).filter(Boolean);
  if (words.length === 0) return cmds;
  return cmds.filter((c) => {
    const hay = `${c.group} ${c.title}`.toLowerCase();
    return words.every((w) => hay.includes(w));
  });
}
