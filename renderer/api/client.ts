import type { ApiResult, RewindBridge, RewindErrorData } from '../../preload/contract/index.js';
import { createWebBridge, rpcUrlFromLocation, type TransportState } from './web-bridge.js';

/*
 * The one API client module: every store action reaches the console API through `api()`.
 * Desktop: the preload's `window.rewind`. Browser mode: the WebSocket bridge of the same contract.
 */

let current: RewindBridge | null = null;
/** Browser mode: no preload, so files travel as uploads and downloads, never as paths typed here. */
let browserMode = false;
const transportListeners = new Set<(s: TransportState) => void>();
let transportState: TransportState = 'open';

export function api(): RewindBridge {
  if (!current) throw new Error('The console API is not set up yet.');
  return current;
}

/** For main.tsx and for tests that fake the API at this boundary. */
export function setApi(bridge: RewindBridge | null, mode: 'desktop' | 'browser' = 'desktop'): void {
  current = bridge;
  browserMode = mode === 'browser';
}

export function isBrowserMode(): boolean {
  return browserMode;
}

export function getTransportState(): TransportState {
  return transportState;
}

export function onTransportState(listener: (s: TransportState) => void): () => void {
  transportListeners.add(listener);
  return () => {
    transportListeners.delete(listener);
  };
}

/** Picks the preload's bridge when there is one, otherwise opens browser mode's WebSocket. */
export function connectApi(win: Window & { rewind?: RewindBridge }): RewindBridge {
  if (win.rewind) {
    setApi(win.rewind);
    return win.rewind;
  }
  const { bridge } = createWebBridge({
    url: rpcUrlFromLocation(win.location),
    onState: (s) => {
      transportState = s;
      for (const l of transportListeners) l(s);
    },
  });
  setApi(bridge, 'browser');
  return bridge;
}

/** Thrown inside store actions only; carries the error as data. */
export class ApiError extends Error {
  constructor(readonly data: RewindErrorData) {
    super(data.message);
  }
}

export async function unwrap<T>(p: Promise<ApiResult<T>>): Promise<T> {
  const r = await p;
  if (!r.ok) throw new ApiError(r.error);
  return r.value;
}

/** Turns anything caught in an action into error data the UI can show. */
export function toErrorData(e: unknown): RewindErrorData {
  if (e instanceof ApiError) return e.data;
  return { code: 'INTERNAL', message: e instanceof Error ? e.message : String(e), hint: 'Reload the console; if it persists, report it.' };
}
