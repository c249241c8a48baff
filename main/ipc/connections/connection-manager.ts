import type { z } from 'zod';
import type { Backend, SubscriptionState } from '../../backends/backend.js';
import { RewindError } from '../../engine/errors.js';
import type { ConnectionInfo, ConnectionState, ConsoleEvent, ConsoleEventPayload, ConsoleMethods, RewindEvent } from '../../../preload/contract/index.js';
import { loadConnections, newConnectionId, saveConnections, type RemoteConnection } from './connections-file.js';
import type { TokenVault } from './token-vault.js';

export const SANDBOX_ID = 'sandbox';

/** What a remote backend needs; `main/backends/remote/` provides the real factory. */
export interface RemoteOptions {
  url: string;
  token: string;
}
export type CreateRemote = (options: RemoteOptions) => Backend;

/** A push to the console's renderers: main → renderer over IPC, or a browser-mode WebSocket. */
export type ConsolePush = <E extends ConsoleEvent>(event: E, payload: ConsoleEventPayload<E>) => void;

/** `connections:add` after parsing: defaults applied. */
export type AddConnectionInput = z.output<ConsoleMethods['connections:add']['input']>;

export interface ConnectionManagerOptions {
  /** The local sandbox, already open; it is always in the list and cannot be removed. */
  sandbox: { backend: Backend; path: string };
  /** The folder holding the connections file. */
  dir: string;
  vault: TokenVault;
  createRemote: CreateRemote;
  /** First and longest wait between attempts to reach a server whose event log head is unknown yet. */
  retryMs?: { base: number; cap: number };
}

export interface ConnectionManager {
  list(): ConnectionInfo[];
  add(input: AddConnectionInput): Promise<ConnectionInfo>;
  remove(id: string): Promise<boolean>;
  select(id: string): ConnectionInfo;
  /** The selected connection's backend; throws a typed error when it cannot be used at all (no token). */
  selectedBackend(): Backend;
  onPush(listener: ConsolePush): () => void;
  close(): Promise<void>;
}

const DEFAULT_COLORS = { sandbox: '#4f7cff', staging: '#d97706', production: '#dc2626' } as const;

interface Live {
  config: RemoteConnection | null;
  url: string;
  backend: Backend | null;
  hasToken: boolean;
  state: ConnectionState;
  detail: string | null;
  /** Set once the subscription was live: afterwards a drop is "reconnecting", before it "unreachable". */
  everConnected: boolean;
  stop: () => void;
}

/**
 * The console's connections: the local sandbox plus the remote servers of the connections file.
 * Each connection's state follows its backend's event subscription; each event of the selected
 * connection is pushed as `events:appended`, each change of the list or a state as `connections:changed`.
 */
export async function createConnectionManager(options: ConnectionManagerOptions): Promise<ConnectionManager> {
  // Read (and validate) the file before anything starts, so a bad file leaves nothing running.
  const saved = await loadConnections(options.dir);
  const retry = options.retryMs ?? { base: 1000, cap: 30_000 };
  const listeners = new Set<ConsolePush>();
  const live = new Map<string, Live>();
  let selectedId = SANDBOX_ID;
  let closed = false;
  // add and remove rewrite files: one at a time, so two quick adds never lose one another.
  let queue: Promise<unknown> = Promise.resolve();
  const serial = <T>(fn: () => Promise<T>): Promise<T> => {
    const next = queue.then(fn, fn);
    queue = next.catch(() => undefined);
    return next;
  };

  const push: ConsolePush = (event, payload) => {
    for (const l of listeners) l(event, payload);
  };
  const info = (id: string, c: Live): ConnectionInfo => ({
    id,
    name: c.config?.name ?? 'Local sandbox',
    kind: c.config ? 'remote' : 'sandbox',
    url: c.url,
    environment: c.config?.environment ?? 'sandbox',
    color: c.config?.color ?? DEFAULT_COLORS.sandbox,
    state: c.state,
    detail: c.detail,
    has_token: c.hasToken,
    selected: id === selectedId,
  });
  const list = () => [...live].map(([id, c]) => info(id, c));
  const changed = () => {
    if (!closed) push('connections:changed', { connections: list() });
  };
  const setState = (c: Live, state: ConnectionState, detail: string | null) => {
    if (c.state === state && c.detail === detail) return;
    c.state = state;
    c.detail = detail;
    changed();
  };
  const onSubscriptionState = (c: Live, state: SubscriptionState, detail?: string) => {
    if (state === 'live') c.everConnected = true;
    const mapped: ConnectionState =
      state === 'live' ? 'connected'
      : state === 'reconnecting' ? (c.everConnected ? 'reconnecting' : 'unreachable')
      : state === 'closed' ? 'disconnected'
      : state;
    setState(c, mapped, mapped === 'connected' ? null : (detail ?? null));
  };

  /**
   * Subscribe from the log's current head, so a (re)start pushes what is new rather than the whole
   * history. Resolves after the first attempt, subscribed or not.
   */
  const start = (id: string, c: Live): Promise<void> => {
    const backend = c.backend;
    if (!backend) return Promise.resolve();
    let attempt = 0;
    let timer: NodeJS.Timeout | null = null;
    let unsubscribe: (() => void) | null = null;
    let stopped = false;
    c.stop = () => {
      stopped = true;
      if (timer) clearTimeout(timer);
      unsubscribe?.();
    };
    const tryStart = () =>
      headSeq(backend).then(
        (after) => {
          if (stopped) return;
          unsubscribe = backend.subscribe({
            after,
            onEvent: (event: RewindEvent) => {
              if (id === selectedId) push('events:appended', { connection_id: id, event });
            },
            onState: (state, detail) => onSubscriptionState(c, state, detail),
          });
          // The sandbox is in-process: once subscribed it is live, whether or not it reports states.
          if (backend.kind === 'sandbox') onSubscriptionState(c, 'live');
        },
        (err: unknown) => {
          if (stopped) return;
          const refused = err instanceof RewindError && ['UNAUTHORIZED', 'FORBIDDEN', 'PROTOCOL_MISMATCH', 'TLS_FAILED'].includes(err.code);
          setState(c, refused ? 'refused' : 'unreachable', errorDetail(err));
          if (refused) return;
          // Capped exponential backoff with jitter until the server answers.
          const delay = Math.min(retry.cap, retry.base * 2 ** attempt) * (0.5 + Math.random() / 2);
          attempt += 1;
          timer = setTimeout(tryStart, delay);
          timer.unref();
        },
      );
    return tryStart();
  };

  const missingTokenDetail = options.vault.persistent
    ? 'The OS keychain could not open this connection’s token (the keychain is locked, or was reset). Remove the connection and add it again with its token.'
    : 'Browser mode keeps tokens in memory only, for one session, so this connection’s token is gone since the last start. Remove the connection and add it again with its token, or use the desktop app, which keeps tokens in the OS keychain.';

  const openRemote = async (config: RemoteConnection): Promise<Live> => {
    const token = await options.vault.get(config.id);
    let backend: Backend | null = null;
    let detail: string | null = token === null ? missingTokenDetail : null;
    if (token !== null) {
      try {
        backend = options.createRemote({ url: config.url, token });
      } catch (err) {
        // A hand-edited file may hold a URL the client refuses: show it on that connection, keep the rest.
        detail = errorDetail(err);
      }
    }
    const c: Live = {
      config,
      url: config.url,
      backend,
      hasToken: token !== null,
      state: backend ? 'connecting' : 'refused',
      detail,
      everConnected: false,
      stop: () => undefined,
    };
    live.set(config.id, c);
    void start(config.id, c);
    return c;
  };

  const sandbox: Live = {
    config: null,
    url: options.sandbox.path,
    backend: options.sandbox.backend,
    hasToken: false,
    state: 'connecting',
    detail: null,
    everConnected: false,
    stop: () => undefined,
  };
  live.set(SANDBOX_ID, sandbox);
  // In-process and quick: wait, so no sandbox event can fall between opening and subscribing.
  await start(SANDBOX_ID, sandbox);
  for (const config of saved) await openRemote(config);

  const remotes = () => [...live.values()].flatMap((c) => (c.config ? [c.config] : []));
  const find = (id: string): Live => {
    const c = live.get(id);
    if (!c) {
      throw new RewindError('CONNECTION_NOT_FOUND', `There is no connection ${id}.`, 'Pick one from the connection list; it may have been removed.');
    }
    return c;
  };

  return {
    list,
    add: (input) =>
      serial(async () => {
        const name = input.name.trim();
        if (list().some((c) => c.name.toLowerCase() === name.toLowerCase())) {
          throw new RewindError('DUPLICATE_NAME', `A connection named “${name}” already exists.`, 'Choose another name, or remove the existing connection first.');
        }
        const config: RemoteConnection = {
          id: newConnectionId(),
          name,
          url: input.url,
          environment: input.environment,
          color: input.color ?? DEFAULT_COLORS[input.environment],
        };
        // The token first: if the keychain refuses it, nothing has been written.
        await options.vault.set(config.id, input.token);
        try {
          await saveConnections(options.dir, [...remotes(), config]);
        } catch (err) {
          await options.vault.delete(config.id);
          throw err;
        }
        const c = await openRemote(config);
        changed();
        return info(config.id, c);
      }),
    remove: (id) =>
      serial(async () => {
        if (id === SANDBOX_ID) {
          throw new RewindError('FORBIDDEN', 'The local sandbox cannot be removed.', 'It is always there for rehearsals; remove remote servers only.');
        }
        const c = live.get(id);
        if (!c) return false;
        await saveConnections(options.dir, remotes().filter((r) => r.id !== id));
        await options.vault.delete(id);
        live.delete(id);
        c.stop();
        await c.backend?.close();
        if (selectedId === id) selectedId = SANDBOX_ID;
        changed();
        return true;
      }),
    select(id) {
      const c = find(id);
      if (selectedId !== id) {
        selectedId = id;
        changed();
      }
      return info(id, c);
    },
    selectedBackend() {
      const c = find(selectedId);
      if (!c.backend) throw new RewindError('UNAUTHORIZED', `${c.config?.name ?? selectedId} has no token.`, c.detail ?? missingTokenDetail);
      return c.backend;
    },
    onPush(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async close() {
      if (closed) return;
      closed = true;
      listeners.clear();
      await queue;
      for (const c of live.values()) c.stop();
      await Promise.allSettled([...live.values()].map((c) => c.backend?.close()));
    },
  };
}

function errorDetail(err: unknown): string {
  return err instanceof RewindError ? `${err.message} ${err.hint}` : err instanceof Error ? err.message : String(err);
}

/**
 * The last seq of a backend's event log. Seqs are gapless (invariant 4), so `after: k` is empty
 * exactly when k ≥ head: gallop, then bisect — about 2·log2(head) small reads.
 */
export async function headSeq(backend: Backend): Promise<number> {
  const beyond = async (k: number) => (await backend.call('events:list', { after: k, limit: 1 })).events.length === 0;
  if (await beyond(0)) return 0;
  let below = 0;
  let upper = 1;
  while (!(await beyond(upper))) {
    below = upper;
    upper *= 2;
  }
  while (upper - below > 1) {
    const mid = Math.floor((below + upper) / 2);
    if (await beyond(mid)) upper = mid;
    else below = mid;
  }
  return upper;
}
