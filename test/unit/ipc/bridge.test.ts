import { describe, expect, it } from 'vitest';
import { buildBridge, type IpcRendererLike } from '../../../preload/bridge.js';
import { consoleApiMethodNames, consoleEvents, splitMethod } from '../../../preload/contract/index.js';

type Listener = (event: unknown, ...args: unknown[]) => void;

function fakeIpcRenderer() {
  const invoked: Array<{ channel: string; args: unknown[] }> = [];
  const listeners = new Map<string, Set<Listener>>();
  const ipc: IpcRendererLike = {
    invoke: async (channel, ...args) => {
      invoked.push({ channel, args });
      return { ok: true, value: channel };
    },
    on: (channel, listener) => {
      if (!listeners.has(channel)) listeners.set(channel, new Set());
      listeners.get(channel)?.add(listener);
    },
    removeListener: (channel, listener) => {
      listeners.get(channel)?.delete(listener);
    },
  };
  const emit = (channel: string, payload: unknown) => {
    for (const l of listeners.get(channel) ?? []) l({ sender: 'ipcRenderer itself' }, payload);
  };
  return { ipc, invoked, listeners, emit };
}

describe('preload bridge', () => {
  it('exposes exactly one function per contract method, grouped by namespace, and nothing generic', () => {
    const { ipc } = fakeIpcRenderer();
    const bridge = buildBridge(ipc) as unknown as Record<string, unknown>;
    const exposed: string[] = [];
    for (const [ns, value] of Object.entries(bridge)) {
      if (ns === 'on') {
        expect(typeof value).toBe('function');
        continue;
      }
      for (const [name, fn] of Object.entries(value as Record<string, unknown>)) {
        expect(typeof fn).toBe('function');
        exposed.push(`${ns}:${name}`);
      }
    }
    expect(exposed.sort()).toEqual([...consoleApiMethodNames].sort());
    for (const generic of ['invoke', 'send', 'ipcRenderer', 'sendSync']) expect(bridge).not.toHaveProperty(generic);
  });

  it('each method invokes its own channel with the input (or {})', async () => {
    const { ipc, invoked } = fakeIpcRenderer();
    const bridge = buildBridge(ipc) as unknown as Record<string, Record<string, (input?: unknown) => Promise<unknown>>>;
    for (const method of consoleApiMethodNames) {
      const [ns, name] = splitMethod(method);
      await expect(bridge[ns]?.[name]?.({ probe: method })).resolves.toEqual({ ok: true, value: method });
    }
    expect(invoked.map((c) => c.channel)).toEqual(consoleApiMethodNames);
    expect(invoked.every((c) => c.args.length === 1)).toBe(true);
    await bridge.connections?.list?.();
    expect(invoked.at(-1)).toEqual({ channel: 'connections:list', args: [{}] });
  });

  it('on() strips the IPC event, accepts only contract events and returns an unsubscribe', () => {
    const { ipc, listeners, emit } = fakeIpcRenderer();
    const bridge = buildBridge(ipc);
    const seen: unknown[][] = [];
    const off = bridge.on('connections:changed', (...args: unknown[]) => seen.push(args));
    emit('connections:changed', { connections: [] });
    expect(seen).toEqual([[{ connections: [] }]]);
    off();
    emit('connections:changed', { connections: [] });
    expect(seen).toHaveLength(1);
    expect(listeners.get('connections:changed')?.size).toBe(0);
    expect(() => (bridge.on as (e: string, l: () => void) => () => void)('workflows:list', () => undefined)).toThrow(/Unknown console event/);
    for (const event of Object.keys(consoleEvents)) expect(() => bridge.on(event as keyof typeof consoleEvents, () => undefined)()).not.toThrow();
  });
});
