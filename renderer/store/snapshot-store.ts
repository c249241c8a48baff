import { create } from 'zustand';
import type { ApiOutput, ConsoleEventPayload, RewindErrorData } from '../../preload/contract/index.js';
import { api, toErrorData, unwrap } from '../api/client.js';
import { useConnections } from './connections-store.js';

export type SnapshotProgress = ConsoleEventPayload<'snapshots:progress'>;
export type SnapshotResult = ApiOutput<'snapshots:create'>;

/*
 * snapshot: idle → running → done | failed   (failed → running again resumes the same file)
 */
export interface SnapshotState {
  phase: 'idle' | 'running' | 'done' | 'failed';
  connectionId: string | null;
  path: string;
  runs: number;
  progress: SnapshotProgress | null;
  result: SnapshotResult | null;
  error: RewindErrorData | null;
}

export const snapshotInitialState: SnapshotState = { phase: 'idle', connectionId: null, path: '', runs: 200, progress: null, result: null, error: null };

interface SnapshotActions {
  /** Prepares the dialog for a connection, with a default file path. */
  prepare(connectionId: string, path: string): void;
  setPath(path: string): void;
  setRuns(runs: number): void;
  start(): Promise<void>;
  applyProgress(progress: SnapshotProgress): void;
  /** Opens the finished snapshot as a connection and switches to it. */
  openResult(): Promise<boolean>;
  reset(): void;
}

export const useSnapshot = create<SnapshotState & SnapshotActions>()((set, get) => ({
  ...snapshotInitialState,
  prepare(connectionId, path) {
    // A snapshot under way keeps its dialog state; reopening the dialog shows its progress.
    if (get().phase === 'running') return;
    set({ ...snapshotInitialState, connectionId, path });
  },
  setPath(path) {
    set({ path });
  },
  setRuns(runs) {
    set({ runs });
  },
  async start() {
    const { connectionId, path, runs, phase } = get();
    if (!connectionId || phase === 'running') return;
    set({ phase: 'running', progress: null, result: null, error: null });
    try {
      const result = await unwrap(api().snapshots.create({ connection_id: connectionId, path, runs }));
      set({ phase: 'done', result });
    } catch (e) {
      set({ phase: 'failed', error: toErrorData(e) });
    }
  },
  applyProgress(progress) {
    const { phase, path } = get();
    if (phase !== 'running' || progress.path !== path) return;
    set({ progress });
  },
  async openResult() {
    const result = get().result;
    if (!result) return false;
    const ok = await useConnections.getState().openSandbox(result.path);
    if (ok) set(snapshotInitialState);
    return ok;
  },
  reset() {
    set(snapshotInitialState);
  },
}));

/** `<folder of the sandbox file>/snapshot-<host>-<YYYYMMDD-HHMM>.db`: the data folder, named so several sit side by side. */
export function defaultSnapshotPath(sandboxPath: string | null, serverUrl: string, now: Date): string {
  const sep = sandboxPath?.includes('\\') && !sandboxPath.includes('/') ? '\\' : '/';
  const folder = sandboxPath ? sandboxPath.slice(0, Math.max(sandboxPath.lastIndexOf(sep), 0)) : '';
  let host = 'server';
  try {
    host = new URL(serverUrl).host.replace(/[^A-Za-z0-9.-]+/g, '-');
  } catch {
    // Not a URL: keep the generic name.
  }
  const p = (n: number) => String(n).padStart(2, '0');
  const stamp = `${now.getFullYear()}${p(now.getMonth() + 1)}${p(now.getDate())}-${p(now.getHours())}${p(now.getMinutes())}`;
  return `${folder ? `${folder}${sep}` : ''}snapshot-${host}-${stamp}.db`;
}
