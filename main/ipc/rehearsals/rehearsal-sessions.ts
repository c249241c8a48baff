import { randomUUID } from 'node:crypto';
import type { z } from 'zod';
import type { ConsoleMethods, RehearsalSession, ScenarioInfo } from '../../../preload/contract/index.js';
import type { Backend } from '../../backends/backend.js';
import { RewindError, toErrorData } from '../../engine/errors.js';
import { type RehearsalProgress, rehearse } from '../../runbooks/rehearsal.js';
import { formatDuration } from '../../engine/runbooks/format.js';
import { type Scenario, scenarioFor, scenarios } from '../../runbooks/scenarios.js';
import type { RehearsalRecord, RunbookStep, StoredRunbook } from '../../engine/runbooks/format.js';
import { type ConnectionManager, type ConsolePush, SANDBOX_ID } from '../connections/connection-manager.js';

/*
 * Rehearsal sessions: a runbook rehearsed (sandbox) or executed (`live`, on a workflow server)
 * from the console, one step after another, with every move pushed as `rehearsals:progress`.
 *
 *   setting_up ─→ running ⇄ awaiting_confirmation
 *        │           │               │
 *        └───────────┴───────────────┴──→ finished | aborted
 *
 * A checklist waits for `rehearsals:confirm`; live, every action waits too, as a manual action
 * would, and the server checks the token's role on each call. At the end the record is kept
 * through the connection's own `rehearsals:record`.
 */

export type StartInput = z.output<ConsoleMethods['rehearsals:start']['input']>;
export type ConfirmInput = z.output<ConsoleMethods['rehearsals:confirm']['input']>;

/** The connection a rehearsal runs against: the one selected when it starts. */
export interface RehearsalTarget {
  connectionId: string;
  backend: Backend;
  /** A sandbox target's scratch copy, what a rehearsal changes by default; absent for a server. */
  scratch?: () => Promise<{ backend: Backend; dispose(): Promise<void> } | null>;
  /** A scratch sandbox seeded with the demo, for a scenario the target cannot stage as it is. */
  freshDemo?: () => Promise<{ backend: Backend; dispose(): Promise<void> }>;
  /** Resets the target itself to the demo (the console's local sandbox only); its backend changes, so the target is read again after. */
  resetToDemo?: () => Promise<void>;
}

export interface RehearsalSessionsOptions {
  target: () => RehearsalTarget;
  push: ConsolePush;
}

export interface RehearsalSessions {
  scenarios(): ScenarioInfo[];
  start(input: StartInput): Promise<RehearsalSession>;
  confirm(input: ConfirmInput): RehearsalSession;
  /** Resolves once the session has ended and its record is kept. */
  abort(sessionId: string): Promise<RehearsalSession>;
  list(): RehearsalSession[];
  /** Resolves with the session once it has ended. */
  ended(sessionId: string): Promise<RehearsalSession>;
  /** Aborts every session under way and waits until each record is kept (the console is closing). */
  close(): Promise<void>;
}

type Scratch = { backend: Backend; dispose(): Promise<void> };

interface Live {
  session: RehearsalSession;
  controller: AbortController;
  pending: { index: number; answer: (confirmed: boolean) => void } | null;
  done: Promise<RehearsalSession>;
}

const ENDED: ReadonlySet<RehearsalSession['state']> = new Set(['finished', 'aborted']);
/** How many ended sessions `rehearsals:sessions` still lists. */
const KEEP_ENDED = 20;

export function createRehearsalSessions(options: RehearsalSessionsOptions): RehearsalSessions {
  const sessions = new Map<string, Live>();

  const snapshot = (s: RehearsalSession): RehearsalSession => ({ ...s, steps: s.steps.map((step) => ({ ...step })) });
  const update = (live: Live, change: Partial<RehearsalSession>) => {
    Object.assign(live.session, change);
    options.push('rehearsals:progress', snapshot(live.session));
  };
  const find = (sessionId: string): Live => {
    const live = sessions.get(sessionId);
    if (!live) throw new RewindError('NOT_FOUND', `There is no rehearsal session ${sessionId}.`, 'Pick one from the rehearsals under way (rehearsals:sessions).', { session_id: sessionId });
    return live;
  };
  const prune = () => {
    const ended = [...sessions.values()].filter((l) => ENDED.has(l.session.state));
    for (const l of ended.slice(0, Math.max(0, ended.length - KEEP_ENDED))) sessions.delete(l.session.session_id);
  };

  /** Parks the step until the operator answers; the rehearsal races this against its abort signal. */
  const ask = (live: Live, index: number): Promise<boolean> =>
    new Promise((resolve) => {
      live.pending = { index, answer: resolve };
      update(live, { state: 'awaiting_confirmation', current_index: index });
    });

  const onProgress = (live: Live, runbook: StoredRunbook) => (p: RehearsalProgress) => {
    const titleAfter = (index: number) => runbook.runbook.steps[index]?.title ?? null;
    switch (p.type) {
      case 'scenario':
        update(live, { state: 'running', detail: `Scenario ${p.name}: ${p.detail}` });
        return;
      case 'step-started':
        update(live, { state: 'running', current_index: p.index, next_title: p.next });
        return;
      case 'step-finished':
        live.pending = null;
        update(live, { state: 'running', current_index: null, next_title: titleAfter(p.step.index), steps: [...live.session.steps, p.step] });
        return;
      case 'finished':
        return;
    }
  };

  async function run(live: Live, backend: Backend, runbook: StoredRunbook, scenario: Scenario | undefined, input: StartInput, liveMode: boolean, scratch: Scratch | null): Promise<RehearsalSession> {
    try {
      return await rehearseAndKeep(live, backend, runbook, scenario, input, liveMode, scratch);
    } finally {
      await scratch?.dispose();
    }
  }

  async function rehearseAndKeep(live: Live, backend: Backend, runbook: StoredRunbook, scenario: Scenario | undefined, input: StartInput, liveMode: boolean, scratch: Scratch | null): Promise<RehearsalSession> {
    const { signal } = live.controller;
    let record: RehearsalRecord;
    try {
      record = await rehearse({
        // On a scratch copy the steps change the copy; the record is kept in the sandbox's own history.
        backend: scratch?.backend ?? backend,
        runbook: runbook.runbook,
        ...(scenario ? { scenario } : {}),
        skipSteps: input.skip_steps,
        timeScale: input.time_scale,
        signal,
        confirm: (_step, index) => ask(live, index),
        ...(liveMode ? { confirmAction: (_step: RunbookStep, index: number) => ask(live, index) } : {}),
        ...(input.pace === 'paced' ? { confirmStep: (_step: RunbookStep, index: number) => ask(live, index) } : {}),
        onProgress: onProgress(live, runbook),
      });
    } catch (err) {
      // Only the scenario can throw: the steps record their own failures. Nothing ran, so nothing is kept.
      const e = toErrorData(err);
      update(live, { state: signal.aborted ? 'aborted' : 'finished', passed: false, current_index: null, detail: `The scenario could not be set up: ${e.code}: ${e.message} ${e.hint}` });
      return snapshot(live.session);
    }
    if (!liveMode) record = { ...record, scratch_copy: scratch !== null };
    const outcome = summary(record, signal.aborted);
    try {
      const kept = await backend.call('rehearsals:record', { runbook: runbook.id, record });
      update(live, { state: signal.aborted ? 'aborted' : 'finished', current_index: null, next_title: null, rehearsal_id: kept.id, passed: kept.passed, detail: outcome });
    } catch (err) {
      const e = toErrorData(err);
      update(live, {
        state: signal.aborted ? 'aborted' : 'finished',
        current_index: null,
        next_title: null,
        passed: record.passed,
        detail: `${outcome} The record could not be kept: ${e.code}: ${e.message} ${e.hint}`,
      });
    }
    return snapshot(live.session);
  }

  return {
    scenarios: () => Object.values(scenarios).map(({ name, description, level }) => ({ name, description, level })),

    async start(input) {
      let target = options.target();
      const liveMode = target.backend.kind === 'remote';
      if (liveMode && input.scenario !== null) {
        throw new RewindError(
          'VALIDATION_FAILED',
          `The scenario "${input.scenario}" breaks workflows on purpose, so it runs only against a sandbox; this connection is a workflow server.`,
          'Select the local sandbox (or a sandbox file) to rehearse under a scenario, or execute the runbook live without one.',
          { scenario: input.scenario },
        );
      }
      if (liveMode && input.time_scale !== 1) {
        throw new RewindError('VALIDATION_FAILED', 'A live execution waits in real time; time_scale only fast-forwards sandbox rehearsals.', 'Start it without time_scale (or with 1).', {
          time_scale: input.time_scale,
        });
      }
      let runbook = await target.backend.call('runbooks:get', { runbook: input.runbook });
      const keepsSandbox = !liveMode && input.scratch;
      if (input.reset_first && input.scenario !== null && !liveMode && !keepsSandbox) {
        if (!target.resetToDemo) {
          throw new RewindError('FORBIDDEN', 'This sandbox cannot be reset to the demo from here.', 'Rehearse on a scratch copy (the default): a scenario then starts from a fresh demo copy and this sandbox stays as it is.');
        }
        await target.resetToDemo();
        target = options.target();
        // The reset sandbox has the demo's runbooks: this one is put back if it was not one of them.
        runbook = await target.backend.call('runbooks:get', { runbook: runbook.name }).catch(() => target.backend.call('runbooks:save', { runbook: runbook.runbook }));
      }
      const { connectionId, backend } = target;
      const count = runbook.runbook.steps.length;
      const outside = input.skip_steps.filter((i) => i > count);
      if (outside.length > 0) {
        throw new RewindError('VALIDATION_FAILED', `"${runbook.name}" has ${count} steps; there is no step ${outside.join(', ')} to skip.`, `Skip steps between 1 and ${count}.`, { skip_steps: outside });
      }
      // With a scenario to stage from the demo, the scratch is a fresh demo sandbox rather than a copy of this one.
      const fresh = keepsSandbox && input.reset_first && input.scenario !== null;
      if (fresh && !target.freshDemo) throw new RewindError('VALIDATION_FAILED', 'This console cannot make a fresh demo sandbox.', 'Rehearse the scenario on a fresh demo sandbox file.');
      const scratch = keepsSandbox ? ((await (fresh ? target.freshDemo?.() : target.scratch?.())) ?? null) : null;
      if (keepsSandbox && scratch === null) {
        throw new RewindError('VALIDATION_FAILED', 'This console cannot make a scratch copy of this sandbox.', 'Rehearse on the sandbox itself (scratch: false), or open the sandbox in the console.');
      }
      let scenario: Scenario | undefined;
      try {
        scenario = input.scenario === null ? undefined : scenarioFor(input.scenario, scratch?.backend ?? backend);
        const unfit = scenario ? await scenario.check(scratch?.backend ?? backend) : null;
        if (scenario && unfit !== null) throw needsReset(scenario.name, unfit, keepsSandbox ? target.freshDemo !== undefined : target.resetToDemo !== undefined, keepsSandbox);
      } catch (err) {
        await scratch?.dispose();
        throw err;
      }
      const session: RehearsalSession = {
        session_id: randomUUID(),
        connection_id: connectionId,
        runbook_id: runbook.id,
        runbook_name: runbook.name,
        scenario: scenario?.name ?? null,
        mode: liveMode ? 'live' : 'rehearsal',
        pace: input.pace,
        state: scenario ? 'setting_up' : 'running',
        current_index: null,
        next_title: runbook.runbook.steps[0]?.title ?? null,
        started_at: new Date().toISOString(),
        steps: [],
        rehearsal_id: null,
        passed: null,
        detail: scenario ? `Setting up the scenario ${scenario.name}: ${scenario.description}` : null,
      };
      const live: Live = { session, controller: new AbortController(), pending: null, done: Promise.resolve(session) };
      sessions.set(session.session_id, live);
      prune();
      options.push('rehearsals:progress', snapshot(session));
      const started = snapshot(session);
      live.done = run(live, backend, runbook, scenario, input, liveMode, scratch);
      return started;
    },

    confirm({ session_id, index, confirmed }) {
      const live = find(session_id);
      const { pending } = live;
      if (!pending || live.session.state !== 'awaiting_confirmation') {
        throw new RewindError('REHEARSAL_NOT_ACTIVE', `The rehearsal of "${live.session.runbook_name}" is ${live.session.state.replace('_', ' ')}; no step awaits confirmation.`, 'Confirm a step when the rehearsal asks for it.', {
          state: live.session.state,
        });
      }
      if (pending.index !== index) {
        throw new RewindError('VALIDATION_FAILED', `Step ${pending.index} awaits confirmation, not step ${index}.`, `Answer step ${pending.index}.`, { awaiting: pending.index });
      }
      live.pending = null;
      update(live, { state: 'running' });
      pending.answer(confirmed);
      return snapshot(live.session);
    },

    async abort(sessionId) {
      const live = find(sessionId);
      if (ENDED.has(live.session.state)) {
        throw new RewindError('REHEARSAL_NOT_ACTIVE', `The rehearsal of "${live.session.runbook_name}" has already ${live.session.state}.`, 'Its record is in the runbook’s rehearsal history.', {
          state: live.session.state,
        });
      }
      live.controller.abort();
      return live.done;
    },

    list: () => [...sessions.values()].map((l) => snapshot(l.session)),

    ended: (sessionId) => find(sessionId).done,

    async close() {
      const running = [...sessions.values()].filter((l) => !ENDED.has(l.session.state));
      for (const live of running) live.controller.abort();
      await Promise.allSettled(running.map((l) => l.done));
    },
  };
}

/** A scenario this sandbox cannot stage as it is; `resettable`: the console can offer to reset first. */
function needsReset(scenario: string, reason: string, resettable: boolean, scratch: boolean): RewindError {
  return new RewindError(
    'SCENARIO_NEEDS_RESET',
    `The scenario "${scenario}" cannot be staged on this sandbox as it is: ${reason}.`,
    resettable
      ? scratch
        ? 'Start it again with "reset to the demo first": the rehearsal then runs on a fresh demo copy, and this sandbox stays as it is.'
        : 'Start it again with "reset to the demo first": the sandbox is reset to the demo (the old file kept beside it as <file>.before-reset).'
      : 'Rehearse it on a fresh demo sandbox (for the CLI: rewind --db NEW.db rehearse …), or without the scenario.',
    { scenario, reason, resettable, scratch },
  );
}

/** One line for the session's detail: how it ended and the time to recover. */
function summary(record: RehearsalRecord, aborted: boolean): string {
  if (aborted) return `Aborted by the operator after ${formatDuration(record.total_ms)}; what ran is kept, marked failed.`;
  if (record.passed) return `Recovered in ${formatDuration(record.total_ms)}.`;
  const failed = record.steps.find((s) => s.outcome === 'failed');
  return failed ? `Step ${failed.index} (${failed.title}) failed after ${formatDuration(record.total_ms)}: ${failed.detail}` : `Not recovered (${formatDuration(record.total_ms)}).`;
}

/** The console's sessions: each against the connection selected when it starts, pushed through the connection manager's listeners. */
export function consoleRehearsals(connections: Pick<ConnectionManager, 'list' | 'selectedBackend' | 'push' | 'scratchCopyOfSelected' | 'freshDemoSandbox' | 'resetSandbox'>): RehearsalSessions {
  return createRehearsalSessions({
    target: () => {
      const backend = connections.selectedBackend();
      const connectionId = connections.list().find((c) => c.selected)?.id ?? SANDBOX_ID;
      return {
        connectionId,
        backend,
        scratch: () => connections.scratchCopyOfSelected(),
        freshDemo: () => connections.freshDemoSandbox(),
        ...(connectionId === SANDBOX_ID ? { resetToDemo: async () => void (await connections.resetSandbox()) } : {}),
      };
    },
    push: connections.push,
  });
}
