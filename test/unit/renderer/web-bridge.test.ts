// @vitest-environment happy-dom
import { describe, expect, it, vi } from 'vitest';
import { createWebBridge, rpcUrlFromLocation, type TransportState } from '../../../renderer/api/web-bridge.js';

/** A socket the test drives by hand. */
class FakeSocket {
  static readonly OPEN = 1;
  readyState = 0;
  sent: string[] = [];
  onopen: (() => void) | null = null;
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  onclose: (() => void) | null = null;
  constructor(readonly url: string) {}
  send(frame: string) {
    this.sent.push(frame);
  }
  close() {
    this.readyState = 3;
    this.onclose?.();
  }
  open() {
    this.readyState = 1;
    this.onopen?.();
  }
  reply(frame: unknown) {
    this.onmessage?.({ data: JSON.stringify(frame) });
  }
}

function setup() {
  const sockets: FakeSocket[] = [];
  const states: TransportState[] = [];
  const { bridge, close } = createWebBridge({
    url: 'ws://127.0.0.1:1/rpc?token=t',
    createSocket: (url) => {
      const s = new FakeSocket(url);
      sockets.push(s);
      return s as unknown as WebSocket;
    },
    onState: (s) => states.push(s),
  });
  return { bridge, close, sockets, states };
}

describe('web bridge', () => {
  it('builds the rpc address from the page address and its token', () => {
    expect(rpcUrlFromLocation({ protocol: 'http:', host: '127.0.0.1:5199', search: '?token=a+b/c' })).toBe('ws://127.0.0.1:5199/rpc?token=a%20b%2Fc');
    expect(rpcUrlFromLocation({ protocol: 'https:', host: 'h', search: '' })).toBe('wss://h/rpc?token=');
  });

  it('queues calls until the socket opens, then answers each by id', async () => {
    const { bridge, sockets } = setup();
    const a = bridge.workflows.list({});
    const b = bridge.runs.get({ run_id: 'r1' });
    const s = sockets[0]!;
    expect(s.sent).toHaveLength(0);
    s.open();
    const frames = s.sent.map((f) => JSON.parse(f) as { id: number; method: string });
    expect(frames.map((f) => f.method)).toEqual(['workflows:list', 'runs:get']);
    s.reply({ id: frames[1]!.id, result: { ok: false, error: { code: 'RUN_NOT_FOUND', message: 'no', hint: 'reload' } } });
    s.reply({ id: frames[0]!.id, result: { ok: true, value: { workflows: [], total: 0 } } });
    await expect(a).resolves.toEqual({ ok: true, value: { workflows: [], total: 0 } });
    await expect(b).resolves.toMatchObject({ ok: false, error: { code: 'RUN_NOT_FOUND', hint: 'reload' } });
  });

  it('dispatches pushes to listeners after checking them against the contract', () => {
    const { bridge, sockets } = setup();
    sockets[0]!.open();
    const got: unknown[] = [];
    const off = bridge.on('connections:changed', (p) => got.push(p));
    sockets[0]!.reply({ event: 'connections:changed', payload: { connections: [] } });
    sockets[0]!.reply({ event: 'connections:changed', payload: { connections: 'nope' } });
    sockets[0]!.reply({ event: 'unknown:event', payload: {} });
    off();
    sockets[0]!.reply({ event: 'connections:changed', payload: { connections: [] } });
    expect(got).toEqual([{ connections: [] }]);
  });

  it('answers calls in flight UNREACHABLE on a drop rather than resending them, and reconnects', async () => {
    vi.useFakeTimers();
    try {
      const { bridge, sockets, states } = setup();
      sockets[0]!.open();
      const inflight = bridge.versions.rollback({ workflow_id: 'w', version: 1 });
      sockets[0]!.close();
      await expect(inflight).resolves.toMatchObject({ ok: false, error: { code: 'UNREACHABLE' } });
      const later = bridge.workflows.list({});
      await vi.advanceTimersByTimeAsync(10_000);
      expect(sockets).toHaveLength(2);
      sockets[1]!.open();
      const frame = JSON.parse(sockets[1]!.sent[0]!) as { id: number; method: string };
      expect(frame.method).toBe('workflows:list');
      sockets[1]!.reply({ id: frame.id, result: { ok: true, value: { workflows: [], total: 0 } } });
      await expect(later).resolves.toMatchObject({ ok: true });
      expect(states).toEqual(['connecting', 'open', 'reconnecting', 'open']);
    } finally {
      vi.useRealTimers();
    }
  });
});
