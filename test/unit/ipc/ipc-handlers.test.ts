import { describe, expect, it } from 'vitest';
import {
  createSenderCheck,
  pushToWebContents,
  registerIpcHandlers,
  trustedRendererUrl,
  type InvokeEvent,
  type IpcMainLike,
} from '../../../main/ipc/ipc-handlers.js';
import type { ConsoleService } from '../../../main/ipc/console-service.js';
import { consoleApiMethodNames, type ApiResult } from '../../../preload/contract/index.js';

type Handler = (event: InvokeEvent, ...args: unknown[]) => Promise<unknown>;

function fakeIpcMain() {
  const handlers = new Map<string, Handler[]>();
  const ipcMain: IpcMainLike = {
    handle: (channel, listener) => handlers.set(channel, [...(handlers.get(channel) ?? []), listener]),
    removeHandler: (channel) => handlers.delete(channel),
  };
  return { ipcMain, handlers };
}

const recordingService = () => {
  const calls: Array<{ method: string; input: unknown }> = [];
  const service: ConsoleService = {
    handle: async (method, input) => {
      calls.push({ method, input });
      return { ok: true, value: method };
    },
    close: async () => undefined,
  };
  return { service, calls };
};

const window = { id: 'our web contents' };
const page = 'file:///opt/rewind/resources/app.asar/out/renderer/index.html';
const ours: InvokeEvent = { sender: window, senderFrame: { url: page, parent: null } };

describe('IPC handlers', () => {
  it('registers exactly one handler per contract method, and removes them all', () => {
    const { ipcMain, handlers } = fakeIpcMain();
    const unregister = registerIpcHandlers({ ipcMain, service: recordingService().service, isTrustedSender: () => true });
    expect([...handlers.keys()].sort()).toEqual([...consoleApiMethodNames].sort());
    for (const list of handlers.values()) expect(list).toHaveLength(1);
    unregister();
    expect(handlers.size).toBe(0);
  });

  it('passes the payload through as unknown, only for trusted senders', async () => {
    const { ipcMain, handlers } = fakeIpcMain();
    const { service, calls } = recordingService();
    const isTrustedSender = createSenderCheck({ webContents: () => window, isTrustedUrl: trustedRendererUrl({ fileUrl: page }) });
    registerIpcHandlers({ ipcMain, service, isTrustedSender });
    const rollback = handlers.get('versions:rollback')?.[0];
    if (!rollback) throw new Error('no handler');

    await expect(rollback(ours, { workflow_id: 'w', version: 1 })).resolves.toEqual({ ok: true, value: 'versions:rollback' });
    expect(calls).toEqual([{ method: 'versions:rollback', input: { workflow_id: 'w', version: 1 } }]);

    const untrusted: InvokeEvent[] = [
      { sender: window, senderFrame: null },
      { sender: window, senderFrame: { url: page, parent: { url: page } } },
      { sender: window, senderFrame: { url: 'https://evil.example/', parent: null } },
      { sender: window, senderFrame: { url: 'file:///tmp/other.html', parent: null } },
      { sender: { id: 'another window' }, senderFrame: { url: page, parent: null } },
    ];
    for (const event of untrusted) {
      const result = (await rollback(event, { workflow_id: 'w', version: 1 })) as ApiResult<unknown>;
      expect(result.ok).toBe(false);
      if (!result.ok) expect(result.error.code).toBe('FORBIDDEN');
    }
    expect(calls).toHaveLength(1);
  });

  it('trusts the dev server only by exact origin', () => {
    const trusted = trustedRendererUrl({ devOrigin: 'http://localhost:5173' });
    expect(trusted('http://localhost:5173/index.html?x=1#y')).toBe(true);
    expect(trusted('http://localhost:5174/')).toBe(false);
    expect(trusted('http://localhost.evil:5173/')).toBe(false);
    expect(trusted('file:///x/index.html')).toBe(false);
    expect(trusted('not a url')).toBe(false);
  });

  it('pushes only contract events, and never to a destroyed window', () => {
    const sent: Array<[string, unknown]> = [];
    let destroyed = false;
    const push = pushToWebContents({ send: (channel, payload) => sent.push([channel, payload]), isDestroyed: () => destroyed });
    push('connections:changed', { connections: [] });
    (push as (e: string, p: unknown) => void)('workflows:list', {});
    destroyed = true;
    push('connections:changed', { connections: [] });
    expect(sent).toEqual([['connections:changed', { connections: [] }]]);
  });
});
