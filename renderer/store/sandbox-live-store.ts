import { create } from 'zustand';
import type { RewindErrorData, SandboxSecrets, SandboxSettings } from '../../preload/contract/index.js';
import { api, toErrorData, unwrap } from '../api/client.js';

/*
 * A sandbox connection's live execution settings and secret names, as main keeps them. Secret
 * values go out once (setSecret) and are never held here afterwards: main answers names only.
 */
export interface SandboxLiveState {
  connectionId: string | null;
  settings: SandboxSettings | null;
  secrets: SandboxSecrets | null;
  loading: boolean;
  busy: boolean;
  error: RewindErrorData | null;
}

export const sandboxLiveInitialState: SandboxLiveState = { connectionId: null, settings: null, secrets: null, loading: false, busy: false, error: null };

interface SandboxLiveActions {
  load(connectionId: string): Promise<void>;
  /** Applies the settings (main reopens the sandbox with them). */
  applySettings(liveExecution: boolean, allowCommands: boolean): Promise<boolean>;
  setSecret(name: string, value: string): Promise<boolean>;
  deleteSecret(name: string): Promise<boolean>;
  clear(): void;
}

export const useSandboxLive = create<SandboxLiveState & SandboxLiveActions>()((set, get) => {
  /** Runs one change against the open connection; a refusal is kept to show, not thrown. */
  const change = async (fn: (connectionId: string) => Promise<Partial<SandboxLiveState>>): Promise<boolean> => {
    const { connectionId } = get();
    if (connectionId === null) return false;
    set({ busy: true, error: null });
    try {
      set({ ...(await fn(connectionId)), busy: false });
      return true;
    } catch (e) {
      set({ busy: false, error: toErrorData(e) });
      return false;
    }
  };
  return {
    ...sandboxLiveInitialState,
    async load(connectionId) {
      set({ ...sandboxLiveInitialState, connectionId, loading: true });
      try {
        const [settings, secrets] = await Promise.all([
          unwrap(api().sandbox.getSettings({ connection_id: connectionId })),
          unwrap(api().sandbox.listSecrets({ connection_id: connectionId })),
        ]);
        if (get().connectionId === connectionId) set({ settings, secrets, loading: false });
      } catch (e) {
        set({ loading: false, error: toErrorData(e) });
      }
    },
    applySettings: (liveExecution, allowCommands) =>
      change(async (id) => ({ settings: await unwrap(api().sandbox.setSettings({ connection_id: id, live_execution: liveExecution, allow_commands: liveExecution && allowCommands })) })),
    setSecret: (name, value) => change(async (id) => ({ secrets: await unwrap(api().sandbox.setSecret({ connection_id: id, name, value })) })),
    deleteSecret: (name) => change(async (id) => ({ secrets: await unwrap(api().sandbox.deleteSecret({ connection_id: id, name })) })),
    clear() {
      set(sandboxLiveInitialState);
    },
  };
});
