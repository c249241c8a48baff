import { consoleApiMethodNames, consoleEvents, type ApiResult, type ConsoleEvent } from '../../preload/contract/index.js';
import type { ConsolePush } from './connections/connection-manager.js';
import type { ConsoleService } from './console-service.js';

/** The part of a frame the sender check reads (Electron's `WebFrameMain`). */
export interface SenderFrame {
  readonly url: string;
  readonly parent: unknown;
}

/** The part of `IpcMainInvokeEvent` the handlers read. */
export interface InvokeEvent {
  readonly sender: unknown;
  readonly senderFrame: SenderFrame | null;
}

/** The part of Electron's `ipcMain` used here; a fake in tests. */
export interface IpcMainLike {
  handle(channel: string, listener: (event: InvokeEvent, ...args: unknown[]) => Promise<unknown>): void;
  removeHandler(channel: string): void;
}

/** The part of Electron's `WebContents` pushes need. */
export interface PushTarget {
  send(channel: string, payload: unknown): void;
  isDestroyed(): boolean;
}

export interface RegisterIpcOptions {
  ipcMain: IpcMainLike;
  service: ConsoleService;
  isTrustedSender: (event: InvokeEvent) => boolean;
}

/**
 * One `ipcMain.handle` per contract method, named from the contract's keys (there is no second
 * list). Each checks the sender frame before the payload, an `unknown`, reaches the service.
 * Returns a function that removes them again.
 */
export function registerIpcHandlers({ ipcMain, service, isTrustedSender }: RegisterIpcOptions): () => void {
  for (const method of consoleApiMethodNames) {
    ipcMain.handle(method, async (event, input: unknown): Promise<ApiResult<unknown>> => {
      if (!isTrustedSender(event)) {
        return {
          ok: false,
          error: {
            code: 'FORBIDDEN',
            message: `${method} was called from a frame that is not the Rewind console.`,
            hint: 'Only the console window’s own page may call the console API.',
          },
        };
      }
      return service.handle(method, input);
    });
  }
  return () => {
    for (const method of consoleApiMethodNames) ipcMain.removeHandler(method);
  };
}

/**
 * The sender check: the call must come from our window's top frame (not an iframe, not another
 * window) showing our own page.
 */
export function createSenderCheck(options: { webContents: () => unknown; isTrustedUrl: (url: string) => boolean }): (event: InvokeEvent) => boolean {
  return (event) => {
    const frame = event.senderFrame;
    return (
      frame !== null &&
      event.sender === options.webContents() &&
      (frame.parent === null || frame.parent === undefined) &&
      options.isTrustedUrl(frame.url)
    );
  };
}

/**
 * Whether a URL is the console's page: the built `index.html` loaded from disk, or in development
 * the electron-vite dev server's origin. Query and hash do not matter; the path or origin must match exactly.
 */
export function trustedRendererUrl(allowed: { fileUrl?: string; devOrigin?: string }): (url: string) => boolean {
  return (raw) => {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      return false;
    }
    if (allowed.fileUrl !== undefined && url.protocol === 'file:') return url.pathname === new URL(allowed.fileUrl).pathname;
    return allowed.devOrigin !== undefined && url.origin === new URL(allowed.devOrigin).origin;
  };
}

/** Pushes to one window: only the contract's events, and never to a closed window. */
export function pushToWebContents(target: PushTarget): ConsolePush {
  return (event: ConsoleEvent, payload) => {
    if (!Object.hasOwn(consoleEvents, event) || target.isDestroyed()) return;
    target.send(event, payload);
  };
}
