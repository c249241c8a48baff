import {
  consoleApiMethodNames,
  consoleEvents,
  splitMethod,
  webServerMessageSchema,
  type ApiResult,
  type ConsoleEvent,
  type RewindBridge,
  type RewindErrorData,
  type WebCall,
} from '../../preload/contract/index.js';

/*
 * transport: connecting → open ⇄ reconnecting
 * Calls made while the socket is down wait for it; calls in flight when it drops are answered
 * UNREACHABLE rather than resent, because a mutation must never be retried blindly.
 */
export type TransportState = 'connecting' | 'open' | 'reconnecting';

export interface WebBridgeOptions {
  url: string;
  /** Injected so unit tests can drive a fake socket. */
  createSocket?: (url: string) => WebSocket;
  onState?: (state: TransportState) => void;
}

export interface WebBridge {
  bridge: RewindBridge;
  close(): void;
}

type Listener = (payload: unknown) => void;
type Pending = { resolve: (r: ApiResult<unknown>) => void; sent: boolean; frame: string };

const BACKOFF_BASE_MS = 250;
const BACKOFF_CAP_MS = 5000;

function unreachable(message: string): ApiResult<never> {
  const error: RewindErrorData = {
    code: 'UNREACHABLE',
    message,
    hint: 'The console lost its connection to Rewind. It reconnects by itself; check the result before retrying.',
  };
  return { ok: false, error };
}

/** The browser-mode `RewindBridge`: the same API over one WebSocket (`/rpc?token=…`). */
export function createWebBridge(options: WebBridgeOptions): WebBridge {
  const createSocket = options.createSocket ?? ((url: string) => new WebSocket(url));
  const pending = new Map<number, Pending>();
  const listeners = new Map<string, Set<Listener>>();
  let nextId = 1;
  let socket: WebSocket | null = null;
  let attempts = 0;
  let closed = false;
  let timer: ReturnType<typeof setTimeout> | null = null;

  const setState = (s: TransportState) => options.onState?.(s);

  const flush = () => {
    if (!socket || socket.readyState !== WebSocket.OPEN) return;
    for (const p of pending.values()) {
      if (!p.sent) {
        socket.send(p.frame);
        p.sent = true;
      }
    }
  };

  const onMessage = (data: unknown) => {
    if (typeof data !== 'string') return;
    let raw: unknown;
    try {
      raw = JSON.parse(data);
    } catch {
      return;
    }
    const parsed = webServerMessageSchema.safeParse(raw);
    if (!parsed.success) return;
    const msg = parsed.data;
    if ('id' in msg) {
      const p = pending.get(msg.id);
      if (!p) return;
      pending.delete(msg.id);
      p.resolve(msg.result as ApiResult<unknown>);
      return;
    }
    const schema = (consoleEvents as Record<string, (typeof consoleEvents)[ConsoleEvent] | undefined>)[msg.event];
    if (!schema) return;
    const payload = schema.safeParse(msg.payload);
    if (!payload.success) return;
    for (const l of listeners.get(msg.event) ?? []) l(payload.data);
  };

  const connect = () => {
    if (closed) return;
    const ws = createSocket(options.url);
    socket = ws;
    ws.onopen = () => {
      attempts = 0;
      setState('open');
      flush();
    };
    ws.onmessage = (ev: MessageEvent) => onMessage(ev.data);
    ws.onclose = () => {
      if (socket !== ws) return;
      socket = null;
      for (const [id, p] of pending) {
        if (p.sent) {
          pending.delete(id);
          p.resolve(unreachable('The connection closed before the answer arrived.'));
        }
      }
      if (closed) return;
      setState('reconnecting');
      // Capped exponential backoff with jitter, so many consoles don't reconnect in lockstep.
      const delay = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** attempts) * (0.5 + Math.random() / 2);
      attempts += 1;
      timer = setTimeout(connect, delay);
    };
  };

  const call = (method: string, input: unknown): Promise<ApiResult<unknown>> => {
    if (closed) return Promise.resolve(unreachable('The console is closed.'));
    const id = nextId++;
    const frame: WebCall = { id, method, input: input ?? {} };
    return new Promise((resolve) => {
      pending.set(id, { resolve, sent: false, frame: JSON.stringify(frame) });
      flush();
    });
  };

  const namespaces: Record<string, Record<string, (input: unknown) => Promise<ApiResult<unknown>>>> = {};
  for (const name of consoleApiMethodNames) {
    const [ns, m] = splitMethod(name);
    (namespaces[ns] ??= {})[m] = (input: unknown) => call(name, input);
  }
  const on = (event: string, listener: Listener) => {
    let set = listeners.get(event);
    if (!set) listeners.set(event, (set = new Set()));
    set.add(listener);
    return () => {
      set.delete(listener);
    };
  };
  // The object is built from the contract's method list, so its shape is RewindBridge by construction.
  const bridge = { ...namespaces, on } as unknown as RewindBridge;

  setState('connecting');
  connect();

  return {
    bridge,
    close() {
      closed = true;
      if (timer) clearTimeout(timer);
      socket?.close();
      for (const p of pending.values()) p.resolve(unreachable('The console is closed.'));
      pending.clear();
    },
  };
}

/** `ws(s)://<host>/rpc?token=<token>` from the page's own address. */
export function rpcUrlFromLocation(loc: Pick<Location, 'protocol' | 'host' | 'search'>): string {
  const token = new URLSearchParams(loc.search).get('token') ?? '';
  const scheme = loc.protocol === 'https:' ? 'wss' : 'ws';
  return `${scheme}://${loc.host}/rpc?token=${encodeURIComponent(token)}`;
}

/** Where browser mode downloads a snapshot the console took (main/web's `/download/snapshot/` route). */
export function snapshotDownloadUrl(loc: Pick<Location, 'search'>, fileName: string): string {
  const token = new URLSearchParams(loc.search).get('token') ?? '';
  return `/download/snapshot/${encodeURIComponent(fileName)}?token=${encodeURIComponent(token)}`;
}
