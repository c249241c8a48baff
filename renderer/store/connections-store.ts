import { create } from 'zustand';
import type { ApiInput, ConnectionInfo, RewindErrorData } from '../../preload/contract/index.js';
import { api, toErrorData, unwrap } from '../api/client.js';
import { resetConnectionData } from './reset.js';

/** A mirror of main's connection list; main owns each connection's state. */
export interface ConnectionsState {
  connections: ConnectionInfo[];
  loading: boolean;
  error: RewindErrorData | null;
  /** The add-connection form's progress. */
  adding: boolean;
  addError: RewindErrorData | null;
  /** The open-sandbox and replace-token dialogs' progress. */
  dialogBusy: boolean;
  dialogError: RewindErrorData | null;
}

export const connectionsInitialState: ConnectionsState = {
  connections: [],
  loading: false,
  error: null,
  adding: false,
  addError: null,
  dialogBusy: false,
  dialogError: null,
};

interface ConnectionsActions {
  load(): Promise<void>;
  select(id: string): Promise<void>;
  add(input: ApiInput<'connections:add'>): Promise<ConnectionInfo | null>;
  remove(id: string): Promise<void>;
  applyPush(connections: ConnectionInfo[]): void;
  /** Opens a sandbox file (a rehearsal copy, a snapshot) and switches to it. */
  openSandbox(path: string): Promise<boolean>;
  setToken(id: string, token: string): Promise<boolean>;
  clearDialogError(): void;
}

const selectedId = (list: ConnectionInfo[]) => list.find((c) => c.selected)?.id ?? null;

export const useConnections = create<ConnectionsState & ConnectionsActions>()((set, get) => ({
  ...connectionsInitialState,
  async load() {
    set({ loading: true, error: null });
    try {
      const { connections } = await unwrap(api().connections.list({}));
      set({ connections, loading: false });
    } catch (e) {
      set({ loading: false, error: toErrorData(e) });
    }
  },
  async select(id) {
    if (selectedId(get().connections) === id) return;
    try {
      await unwrap(api().connections.select({ id }));
      const { connections } = await unwrap(api().connections.list({}));
      // Main pushes the new selection too; when that push came first, it already reset the views and
      // is loading them — a second reset would load everything twice and undo a view opened meanwhile.
      const followed = selectedId(get().connections) === id;
      set({ connections, error: null });
      if (!followed) await resetConnectionData();
    } catch (e) {
      set({ error: toErrorData(e) });
    }
  },
  async add(input) {
    set({ adding: true, addError: null });
    try {
      const info = await unwrap(api().connections.add(input));
      const { connections } = await unwrap(api().connections.list({}));
      set({ connections, adding: false });
      return info;
    } catch (e) {
      set({ adding: false, addError: toErrorData(e) });
      return null;
    }
  },
  async remove(id) {
    try {
      await unwrap(api().connections.remove({ id }));
      const { connections } = await unwrap(api().connections.list({}));
      set({ connections });
    } catch (e) {
      set({ error: toErrorData(e) });
    }
  },
  async openSandbox(path) {
    set({ dialogBusy: true, dialogError: null });
    try {
      const info = await unwrap(api().connections.openSandbox({ path }));
      const { connections } = await unwrap(api().connections.list({}));
      set({ connections, dialogBusy: false });
      await get().select(info.id);
      return true;
    } catch (e) {
      set({ dialogBusy: false, dialogError: toErrorData(e) });
      return false;
    }
  },
  async setToken(id, token) {
    set({ dialogBusy: true, dialogError: null });
    try {
      await unwrap(api().connections.setToken({ id, token }));
      const { connections } = await unwrap(api().connections.list({}));
      set({ connections, dialogBusy: false });
      return true;
    } catch (e) {
      set({ dialogBusy: false, dialogError: toErrorData(e) });
      return false;
    }
  },
  clearDialogError() {
    set({ dialogError: null });
  },
  applyPush(connections) {
    const before = selectedId(get().connections);
    set({ connections });
    // Another window (or main itself) may switch the connection: follow it.
    if (before !== null && selectedId(connections) !== before) void resetConnectionData();
  },
}));
