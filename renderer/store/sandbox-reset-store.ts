import { create } from 'zustand';
import type { RewindErrorData, SandboxContents } from '../../preload/contract/index.js';
import { api, toErrorData, unwrap } from '../api/client.js';
import { resetConnectionData } from './reset.js';

/*
 * reset: idle → previewing → confirming → resetting → done | failed
 * The preview is what the reset throws away, read just before asking.
 */
export interface SandboxResetState {
  preview: SandboxContents | null;
  loading: boolean;
  busy: boolean;
  error: RewindErrorData | null;
  /** Set once reset: where the old sandbox was kept. */
  done: SandboxContents | null;
}

export const sandboxResetInitialState: SandboxResetState = { preview: null, loading: false, busy: false, error: null, done: null };

interface SandboxResetActions {
  loadPreview(): Promise<void>;
  reset(): Promise<boolean>;
  clear(): void;
}

export const useSandboxReset = create<SandboxResetState & SandboxResetActions>()((set) => ({
  ...sandboxResetInitialState,
  async loadPreview() {
    set({ ...sandboxResetInitialState, loading: true });
    try {
      set({ preview: await unwrap(api().sandbox.contents({})), loading: false });
    } catch (e) {
      set({ loading: false, error: toErrorData(e) });
    }
  },
  async reset() {
    set({ busy: true, error: null });
    try {
      const done = await unwrap(api().sandbox.reset({}));
      set({ busy: false, done });
      // Everything shown came from the old sandbox: re-read it all from the fresh one.
      await resetConnectionData();
      return true;
    } catch (e) {
      set({ busy: false, error: toErrorData(e) });
      return false;
    }
  },
  clear() {
    set(sandboxResetInitialState);
  },
}));
