import { consoleApiMethodNames, consoleEvents, splitMethod, type ApiResult, type RewindBridge } from './contract/index.js';

/** The part of Electron's `ipcRenderer` the bridge uses; never itself handed to the page. */
export interface IpcRendererLike {
  invoke(channel: string, ...args: unknown[]): Promise<unknown>;
  on(channel: string, listener: (event: unknown, ...args: unknown[]) => void): unknown;
  removeListener(channel: string, listener: (event: unknown, ...args: unknown[]) => void): unknown;
}

/**
 * `window.rewind`, built from the contract: one function per method, grouped by namespace
 * (`rewind.versions.rollback(input)`), and `on(event, listener)` for the contract's pushes.
 * The page gets no channel names to choose and no `ipcRenderer`: each function calls exactly one channel.
 */
export function buildBridge(ipc: IpcRendererLike): RewindBridge {
  const namespaces: Record<string, Record<string, (input?: unknown) => Promise<ApiResult<unknown>>>> = {};
  for (const method of consoleApiMethodNames) {
    const [ns, name] = splitMethod(method);
    (namespaces[ns] ??= {})[name] = (input?: unknown) => ipc.invoke(method, input ?? {}) as Promise<ApiResult<unknown>>;
  }
  const on = (event: string, listener: (payload: unknown) => void): (() => void) => {
    if (!Object.hasOwn(consoleEvents, event)) throw new Error(`Unknown console event ${JSON.stringify(event)}.`);
    if (typeof listener !== 'function') throw new Error('on(event, listener): the listener must be a function.');
    // The IpcRendererEvent stays here: it carries `sender`, which would hand the page ipcRenderer.
    const wrapped = (_event: unknown, payload: unknown) => listener(payload);
    ipc.on(event, wrapped);
    return () => {
      ipc.removeListener(event, wrapped);
    };
  };
  // Built from the contract's own method list, so the shape is RewindBridge by construction.
  return { ...namespaces, on } as unknown as RewindBridge;
}
