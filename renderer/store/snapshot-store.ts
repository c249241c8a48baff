import { create } from 'zustand';
import type { ApiOutput, ConsoleEventPayload, RewindErrorData } from '../../preload/contract/index.js';
import { api, toErrorData, unwrap } from '../api/client.js';
import { snapshotDownloadUrl } from '../api/web-bridge.js';
import { downloadUrl } from '../shared/download.js';
import { useConnections } from './connections-store.js';

export type SnapshotProgress = ConsoleEventPayload<'snapshots:progress'>;
export type SnapshotResult = ApiOutput<'snapshots:create'>;

/*
 * snapshot: idle → running → done | failed   (failed → running again resumes the same file)
 */
export interface SnapshotState {
  phase: 'idle' | 'running' | 'done' | 'failed';
  connectionId: string | null;
  /** The file to write; when `download`, a folder on the console's machine that the file is generated in. */
  path: string;
  /** Browser mode: the finished file is downloaded by the browser instead of named by a path. */
  download: boolean;
  /** The file name last handed to the browser, once downloaded. */
  downloaded: string | null;
  /** Downloading: the file generated in the folder, as progress names it, so a failed copy resumes it. */
  target: string | null;
  runs: number;
  progress: SnapshotProgress | null;
  result: SnapshotResult | null;
  error: RewindErrorData | null;
}

export const snapshotInitialState: SnapshotState = { phase: 'idle', connectionId: null, path: '', download: false, downloaded: null, target: null, runs: 200, progress: null, result: null, error: null };

interface SnapshotActions {
  /** Prepares the dialog for a connection, with a default file path (or, to download, a folder). */
  prepare(connectionId: string, path: string, download?: boolean): void;
  /** Hands the finished snapshot to the browser as a file download. */
  downloadResult(): void;
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
  prepare(connectionId, path, download = false) {
    // A snapshot under way keeps its dialog state; reopening the dialog shows its progress.
    if (get().phase === 'running') return;
    set({ ...snapshotInitialState, connectionId, path, download });
  },
  downloadResult() {
    const result = get().result;
    if (!result) return;
    const name = fileName(result.path);
    downloadUrl(snapshotDownloadUrl(window.location, name), name);
    set({ downloaded: name });
  },
  setPath(path) {
    set({ path });
  },
  setRuns(runs) {
    set({ runs });
  },
  async start() {
    const { connectionId, runs, phase, download, target } = get();
    if (!connectionId || phase === 'running') return;
    const path = download && target ? target : get().path;
    set({ phase: 'running', progress: null, result: null, error: null });
    try {
      const result = await unwrap(api().snapshots.create({ connection_id: connectionId, path, runs }));
      set({ phase: 'done', result });
      if (get().download) get().downloadResult();
    } catch (e) {
      set({ phase: 'failed', error: toErrorData(e) });
    }
  },
  applyProgress(progress) {
    const { phase, path, download } = get();
    // Downloading, the file's name is generated inside the folder asked for.
    if (phase !== 'running' || (download ? !progress.path.startsWith(path) : progress.path !== path)) return;
    set(download ? { progress, target: progress.path } : { progress });
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

/** `<folder of the sandbox file>/snapshots/`: where browser mode writes the snapshots it then downloads. */
export function snapshotFolder(sandboxPath: string | null): string {
  const sep = sandboxPath?.includes('\\') && !sandboxPath.includes('/') ? '\\' : '/';
  const folder = sandboxPath ? sandboxPath.slice(0, Math.max(sandboxPath.lastIndexOf(sep), 0)) : '';
  return `${folder ? `${folder}${sep}` : ''}snapshots${sep}`;
}

function fileName(path: string): string {
  return path.slice(Math.max(path.lastIndexOf('/'), path.lastIndexOf('\\')) + 1);
}
