import type { Run } from '../../preload/contract/index.js';
import { permission, suggestedAction, type GuardedAction } from '../home/home-model.js';
import { answerWaitingRun, openRun as openRunNow, resumeFailedRun, startRunAndOpen } from '../home/incident-actions.js';
import { useApprovals } from '../store/approvals-store.js';
import { useAudit } from '../store/audit-store.js';
import { useCanary } from '../store/canary-store.js';
import { useConnections } from '../store/connections-store.js';
import { useHistory } from '../store/history-store.js';
import { useIncidents } from '../store/incidents-store.js';
import { useNotifications } from '../store/notifications-store.js';
import { useInspector } from '../store/inspector-store.js';
import { isOver, useRehearsal } from '../store/rehearsal-store.js';
import { useRollback } from '../store/rollback-store.js';
import { useRunbooks, type RunbookTab } from '../store/runbooks-store.js';
import { useRuns } from '../store/runs-store.js';
import { useTimeline } from '../store/timeline-store.js';
import { selectActiveSession, selectRole, selectSelectedConnection } from '../store/selectors.js';
import { useUi, type View } from '../store/ui-store.js';
import { useWorkflows } from '../store/workflows-store.js';
import { useTemplates } from '../templates/templates-store.js';

export interface Command {
  id: string;
  group: string;
  title: string;
  run: () => void;
  /** Why this console may not run it (its role): listed, disabled, with the reason, rather than hidden. */
  disabledReason?: string;
}

/** `{}` when the console's role may take the action, else the reason a command shows it disabled with. */
function guard(action: GuardedAction): { disabledReason?: string } {
  const p = permission(selectRole(useConnections.getState()), action);
  return p.allowed ? {} : { disabledReason: p.reason };
}

const go = (view: View) => () => useUi.getState().setView(view);

const openRunbook = (id: string, tab: RunbookTab) => () => {
  useRunbooks.getState().select(id, tab);
  useUi.getState().setView('runbooks');
};

/**
 * The incident's actions first, so "roll" lists the rollbacks that make sense now: to each failing
 * workflow's last good version, resuming its newest failed run, opening it, pausing the workflow.
 * Actions the console's role may not take are listed disabled, with the reason.
 */
function incidentCommands(): Command[] {
  const out: Command[] = [{ id: 'view:home', group: 'Go to', title: 'Incident home', run: go('home') }];
  for (const f of useIncidents.getState().summary?.failing ?? []) {
    const action = suggestedAction(f);
    if (action.kind === 'rollback') {
      out.push({ id: `incident:rollback:${f.workflow_id}`, group: 'Incident', title: `Roll back ${f.workflow_name} to v${action.version} (last good)`, run: () => void useRollback.getState().openFor(f.workflow_id, action.version), ...guard('rollback') });
    }
    const resumeOn = f.last_good ?? f.active_version;
    // A canary's failed runs, once its policy rolled it back, are not work to finish on the old version.
    if (resumeOn !== null && !f.policy_rollback) {
      out.push({ id: `incident:resume:${f.workflow_id}`, group: 'Incident', title: `Resume run ${f.latest_failed_run_id} of ${f.workflow_name} on v${resumeOn}`, run: () => void resumeFailedRun(f.latest_failed_run_id, resumeOn), ...guard('resume') });
    }
    out.push({ id: `incident:open:${f.workflow_id}`, group: 'Incident', title: `Open failing run of ${f.workflow_name}`, run: () => openRunNow(f.latest_failed_run_id) });
    if (f.status === 'active') {
      out.push({ id: `incident:pause:${f.workflow_id}`, group: 'Incident', title: `Pause ${f.workflow_name}…`, run: () => useWorkflows.getState().askPause(f.workflow_id), ...guard('pause') });
    }
  }
  {
    const names = new Map(useWorkflows.getState().workflows.map((w) => [w.id, w.name]));
    for (const { run: r, prompt } of useApprovals.getState().waiting) {
      const of = `${r.run_id} of ${names.get(r.workflow_id) ?? r.workflow_id} (v${r.version})${prompt ? `: “${prompt}”` : ''}`;
      out.push(
        { id: `approval:approve:${r.run_id}`, group: 'Waiting for approval', title: `Approve run ${of}`, run: () => void answerWaitingRun(r.run_id, 'approve'), ...guard('approve') },
        { id: `approval:deny:${r.run_id}`, group: 'Waiting for approval', title: `Deny run ${of}…`, run: () => void answerWaitingRun(r.run_id, 'deny'), ...guard('approve') },
      );
    }
  }
  return out;
}

/** Every action the console offers, built from what is loaded now. */
export function buildCommands(runs: readonly Run[] = useRuns.getState().runs): Command[] {
  const cmds: Command[] = [
    ...incidentCommands(),
    { id: 'view:workflows', group: 'Go to', title: 'Workflows and timeline', run: go('workflows') },
    { id: 'view:runs', group: 'Go to', title: 'Runs', run: go('runs') },
    { id: 'view:runbooks', group: 'Go to', title: 'Runbooks and rehearsals', run: go('runbooks') },
    { id: 'view:audit', group: 'Go to', title: 'Audit log', run: go('audit') },
    { id: 'theme', group: 'Console', title: 'Toggle light / dark theme', run: () => useUi.getState().toggleTheme() },
    { id: 'theme:system', group: 'Console', title: 'Follow the system theme (light or dark)', run: () => useUi.getState().setThemeChoice('system') },
    { id: 'connection:add', group: 'Console', title: 'Add a workflow server…', run: () => useUi.getState().setAddConnectionOpen(true) },
    { id: 'workflow:from-template', group: 'Workflows', title: 'New workflow from template…', run: () => void useTemplates.getState().show() },
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

  const selectedConnection = selectSelectedConnection(useConnections.getState());
  const dialog = (d: 'snapshot' | 'openSandbox' | 'token' | 'sandboxLive') => () => useUi.getState().setConnectionDialog(d);
  cmds.push({ id: 'connection:openSandbox', group: 'Console', title: 'Open sandbox file…', run: dialog('openSandbox') });
  if (selectedConnection) {
    const muted = selectedConnection.notifications_muted;
    cmds.push({
      id: 'connection:notifications',
      group: selectedConnection.name,
      title: muted ? `Unmute desktop notifications of ${selectedConnection.name}` : `Mute desktop notifications of ${selectedConnection.name}`,
      run: () => void useNotifications.getState().toggleMute(selectedConnection),
    });
  }
  if (selectedConnection?.kind === 'sandbox') {
    cmds.push({ id: 'connection:sandboxLive', group: selectedConnection.name, title: 'Live execution and secrets…', run: dialog('sandboxLive') });
  }
  if (selectedConnection?.kind === 'remote') {
    cmds.push(
      { id: 'connection:snapshot', group: selectedConnection.name, title: 'Snapshot this server…', run: dialog('snapshot') },
      { id: 'connection:token', group: selectedConnection.name, title: 'Replace token…', run: dialog('token') },
    );
  }

  const runbooks = useRunbooks.getState();
  const newRunbook = () => {
    useRunbooks.getState().editNew();
    useUi.getState().setView('runbooks');
  };
  cmds.push({ id: 'runbook:new', group: 'Runbooks', title: 'New runbook / import YAML or JSON…', run: newRunbook });
  for (const r of runbooks.runbooks) {
    cmds.push(
      { id: `runbook:rehearse:${r.id}`, group: 'Rehearse', title: `Rehearse ${r.name}`, run: openRunbook(r.id, 'rehearse') },
      { id: `runbook:history:${r.id}`, group: 'Rehearsal history', title: `History of ${r.name}`, run: openRunbook(r.id, 'history') },
      {
        id: `runbook:edit:${r.id}`,
        group: 'Edit runbook',
        title: `Edit ${r.name}`,
        run: () => {
          useUi.getState().setView('runbooks');
          void useRunbooks.getState().editExisting(r.id);
        },
      },
    );
  }
  const session = selectActiveSession(useRehearsal.getState(), selectedConnection?.id ?? null);
  if (session && !isOver(session)) {
    cmds.push({ id: 'rehearsal:show', group: 'Rehearsal', title: `Show the rehearsal of ${session.runbook_name}`, run: openRunbook(session.runbook_id, 'rehearse') });
    if (session.state === 'awaiting_confirmation') {
      cmds.push({ id: 'rehearsal:confirm', group: 'Rehearsal', title: `Confirm step ${session.current_index ?? ''}`, run: () => void useRehearsal.getState().confirm(true) });
    }
    cmds.push({
      id: 'rehearsal:abort',
      group: 'Rehearsal',
      title: 'Abort the rehearsal…',
      run: () => {
        openRunbook(session.runbook_id, 'rehearse')();
        // The abort asks for confirmation in the panel, never straight from the palette.
        requestAnimationFrame(() => document.querySelector<HTMLElement>('[data-testid="rehearsal-abort"]')?.click());
      },
    });
  }
  if (session?.rehearsal_id) {
    const id = session.rehearsal_id;
    cmds.push({ id: 'rehearsal:report', group: 'Rehearsal', title: `Report of the last rehearsal of ${session.runbook_name}`, run: () => void useHistory.getState().openReport(id) });
  }

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

  // Any workflow's running canary: the palette asks, and the band on its timeline confirms.
  {
    for (const w of workflows) {
      if (!w.canary) continue;
      const decide = (action: 'promote' | 'abort') => () => {
        useWorkflows.getState().select(w.id);
        useUi.getState().setView('workflows');
        useCanary.getState().ask(w.id, action);
      };
      cmds.push(
        { id: `canary:promote:${w.id}`, group: 'Canary', title: `Promote canary of ${w.name} (v${w.canary.version})…`, run: decide('promote'), ...guard('promote') },
        { id: `canary:abort:${w.id}`, group: 'Canary', title: `Abort canary of ${w.name} (v${w.canary.version}), roll back to v${w.canary.stable_version}…`, run: decide('abort'), ...guard('abort') },
      );
    }
  }

  const current = workflows.find((w) => w.id === selectedId);
  if (current && current.status === 'active' && current.active_version !== null) {
    cmds.push({ id: `start:${current.id}`, group: current.name, title: `Start a run of ${current.name} (v${current.active_version})`, run: () => void startRunAndOpen(current.id), ...guard('start') });
  }
  if (current) {
    cmds.push({
      id: `pause:${current.id}`,
      group: current.name,
      title: current.status === 'active' ? `Pause ${current.name}…` : `Unpause ${current.name}`,
      run: () => (current.status === 'active' ? useWorkflows.getState().askPause(current.id) : void useWorkflows.getState().togglePause(current.id)),
      ...guard('pause'),
    });
    const timeline = useTimeline.getState();
    if (timeline.workflowId === current.id) {
      // The most recent versions are the ones an operator rolls back to; older ones stay reachable from the timeline.
      for (const v of timeline.versions.slice(0, 50)) {
        if (v.status === 'active') continue;
        cmds.push({
          id: `rollback:${current.id}:${v.version}`,
          group: current.name,
          title:
            v.version > (current.active_version ?? 0) ? `Make v${v.version} of ${current.name} active again (${v.status})` : `Roll back ${current.name} to v${v.version} (${v.status})`,
          run: () => void useRollback.getState().openFor(current.id, v.version),
          ...guard('rollback'),
        });
      }
    }
  }

  const openRun = (runId: string) => () => {
    useUi.getState().setView('runs');
    void useInspector.getState().open(runId);
  };
  for (const r of runs.slice(0, 200)) {
    cmds.push({ id: `run:${r.run_id}`, group: 'Open run', title: `${r.run_id} · ${r.status} · v${r.version}`, run: openRun(r.run_id) });
  }

  const run = useInspector.getState().run;
  if (run && (run.status === 'failed' || run.status === 'interrupted' || run.status === 'denied')) {
    cmds.push({ id: 'run:resume', group: 'This run', title: `Resume ${run.run_id} from its checkpoint`, run: () => void useInspector.getState().resumeRun(), ...guard('resume') });
  }
  if (run && run.status !== 'running' && run.status !== 'queued') {
    cmds.push({ id: 'run:replay', group: 'This run', title: `Replay ${run.run_id} on the chosen version`, run: () => void useInspector.getState().replayRun(), ...guard('replay') });
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
