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
      const target = options.target();
      const { connectionId, backend } = target;
      const liveMode = backend.kind === 'remote';
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
      const runbook = await backend.call('runbooks:get', { runbook: input.runbook });
      const count = runbook.runbook.steps.length;
      const outside = input.skip_steps.filter((i) => i > count);
      if (outside.length > 0) {
        throw new RewindError('VALIDATION_FAILED', `"${runbook.name}" has ${count} steps; there is no step ${outside.join(', ')} to skip.`, `Skip steps between 1 and ${count}.`, { skip_steps: outside });
      }
      const scratch = !liveMode && input.scratch ? ((await target.scratch?.()) ?? null) : null;
      if (!liveMode && input.scratch && scratch === null) {
        throw new RewindError('VALIDATION_FAILED', 'This console cannot make a scratch copy of this sandbox.', 'Rehearse on the sandbox itself (scratch: false), or open the sandbox in the console.');
      }
      const scenario = input.scenario === null ? undefined : scenarioFor(input.scenario, scratch?.backend ?? backend);
      const session: RehearsalSession = {
        session_id: randomUUID(),
        connection_id: connectionId,
        runbook_id: runbook.id,
        runbook_name: runbook.name,
        scenario: scenario?.name ?? null,
        mode: liveMode ? 'live' : 'rehearsal',
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

/** One line for the session's detail: how it ended and the time to recover. */
function summary(record: RehearsalRecord, aborted: boolean): string {
  if (aborted) return `Aborted by the operator after ${formatDuration(record.total_ms)}; what ran is kept, marked failed.`;
  if (record.passed) return `Recovered in ${formatDuration(record.total_ms)}.`;
  const failed = record.steps.find((s) => s.outcome === 'failed');
  return failed ? `Step ${failed.index} (${failed.title}) failed after ${formatDuration(record.total_ms)}: ${failed.detail}` : `Not recovered (${formatDuration(record.total_ms)}).`;
}

/** The console's sessions: each against the connection selected when it starts, pushed through the connection manager's listeners. */
export function consoleRehearsals(connections: Pick<ConnectionManager, 'list' | 'selectedBackend' | 'push' | 'scratchCopyOfSelected'>): RehearsalSessions {
  return createRehearsalSessions({
    target: () => {
      const backend = connections.selectedBackend();
      return { connectionId: connections.list().find((c) => c.selected)?.id ?? SANDBOX_ID, backend, scratch: () => connections.scratchCopyOfSelected() };
    },
    push: connections.push,
  });
}
