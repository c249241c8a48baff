import { create } from 'zustand';
import type { ApiInput, RehearsalSession, RewindErrorData, ScenarioInfo } from '../../preload/contract/index.js';
import { api, toErrorData, unwrap } from '../api/client.js';
import { useHistory } from './history-store.js';

/*
 * rehearse panel: setup → starting → (session) setting_up → running ⇄ awaiting_confirmation → finished | aborted
 * Main owns each session; this store mirrors it from the start answer, `rehearsals:progress` and
 * `rehearsals:sessions`, and adds only the local clock readings the timers need.
 */

/** When this console saw a session's current step (and its first step) begin, by its own clock. */
export interface StepClock {
  index: number | null;
  since: number;
  /** The first moment the session was past setting up: the overall timer's zero. */
  runningSince: number | null;
}

export interface RehearsalState {
  scenarios: ScenarioInfo[];
  scenariosError: RewindErrorData | null;
  sessions: Record<string, RehearsalSession>;
  clocks: Record<string, StepClock>;
  /** The session the rehearse panel shows. */
  activeId: string | null;
  starting: boolean;
  /** A confirm or abort on its way. */
  answering: boolean;
  error: RewindErrorData | null;
}

export const rehearsalInitialState: RehearsalState = {
  scenarios: [],
  scenariosError: null,
  sessions: {},
  clocks: {},
  activeId: null,
  starting: false,
  answering: false,
  error: null,
};

interface RehearsalActions {
  loadScenarios(): Promise<void>;
  loadSessions(): Promise<void>;
  start(input: ApiInput<'rehearsals:start'>): Promise<RehearsalSession | null>;
  confirm(confirmed: boolean): Promise<void>;
  abort(): Promise<void>;
  applyProgress(session: RehearsalSession): void;
  /** Back to the setup form (a finished session stays in the list). */
  dismiss(): void;
}

export const isOver = (s: RehearsalSession): boolean => s.state === 'finished' || s.state === 'aborted';

/** Advances a session's local clock when its step changes; pure, for tests. */
export function nextClock(prev: StepClock | undefined, session: RehearsalSession, now: number): StepClock {
  const running = session.state !== 'setting_up';
  const runningSince = prev?.runningSince ?? (running ? (prev ? now : Date.parse(session.started_at) || now) : null);
  if (prev && prev.index === session.current_index) return { ...prev, runningSince };
  return { index: session.current_index, since: now, runningSince };
}

const STATE_RANK: Record<RehearsalSession['state'], number> = { setting_up: 0, running: 1, awaiting_confirmation: 2, finished: 3, aborted: 3 };

/** A push and an answer may cross: never let an older picture of a session replace a newer one. */
export function isOlder(next: RehearsalSession, prev: RehearsalSession | undefined): boolean {
  if (!prev) return false;
  const key = (s: RehearsalSession) => [isOver(s) ? 1 : 0, s.steps.length, s.current_index ?? 0, STATE_RANK[s.state]];
  const a = key(next);
  const b = key(prev);
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i]! < b[i]!;
  return false;
}

export const useRehearsal = create<RehearsalState & RehearsalActions>()((set, get) => {
  const mirror = (session: RehearsalSession) => {
    const prev = get().sessions[session.session_id];
    if (isOlder(session, prev)) return;
    set({
      sessions: { ...get().sessions, [session.session_id]: session },
      clocks: { ...get().clocks, [session.session_id]: nextClock(get().clocks[session.session_id], session, Date.now()) },
    });
    // The history gains a point the moment a rehearsal is kept.
    if (isOver(session) && (!prev || !isOver(prev)) && session.rehearsal_id !== null) {
      void useHistory.getState().load(session.runbook_id);
    }
  };

  return {
    ...rehearsalInitialState,
    async loadScenarios() {
      try {
        const { scenarios } = await unwrap(api().scenarios.list({}));
        set({ scenarios, scenariosError: null });
      } catch (e) {
        set({ scenariosError: toErrorData(e) });
      }
    },
    async loadSessions() {
      try {
        const { sessions } = await unwrap(api().rehearsals.sessions({}));
        for (const s of sessions) mirror(s);
        const live = sessions.find((s) => !isOver(s));
        if (get().activeId === null && live) set({ activeId: live.session_id });
      } catch (e) {
        set({ error: toErrorData(e) });
      }
    },
    async start(input) {
      set({ starting: true, error: null });
      try {
        const session = await unwrap(api().rehearsals.start(input));
        mirror(session);
        set({ starting: false, activeId: session.session_id });
        return session;
      } catch (e) {
        set({ starting: false, error: toErrorData(e) });
        return null;
      }
    },
    async confirm(confirmed) {
      const s = get().activeId ? get().sessions[get().activeId!] : undefined;
      if (!s || s.state !== 'awaiting_confirmation' || s.current_index === null || get().answering) return;
      set({ answering: true, error: null });
      try {
        mirror(await unwrap(api().rehearsals.confirm({ session_id: s.session_id, index: s.current_index, confirmed })));
        set({ answering: false });
      } catch (e) {
        set({ answering: false, error: toErrorData(e) });
      }
    },
    async abort() {
      const id = get().activeId;
      if (!id) return;
      set({ answering: true, error: null });
      try {
        mirror(await unwrap(api().rehearsals.abort({ session_id: id })));
        set({ answering: false });
      } catch (e) {
        set({ answering: false, error: toErrorData(e) });
      }
    },
    applyProgress(session) {
      mirror(session);
    },
    dismiss() {
      set({ activeId: null, error: null });
    },
  };
});
