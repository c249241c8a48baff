import { basename, extname, join, resolve } from 'node:path';
import type { z } from 'zod';
import type { Backend, SubscriptionState } from '../../backends/backend.js';
import { EngineBackend, openSandbox } from '../../backends/engine-backend.js';
import { RewindError } from '../../engine/errors.js';
import { inspectSandboxFile, parseSnapshotMeta, SNAPSHOT_META_SQL, type SnapshotMeta } from '../../snapshots/sandbox-file.js';
import { snapshotServer, snapshotTargetPath } from '../../snapshots/snapshot.js';
import { archiveName, isArchiveFile, sandboxOfArchive } from '../../archive/open.js';
import type { Credentials } from '../../backends/remote/credentials.js';
import type { OidcSession } from '../../sign-in/session.js';
import {
  notifiableEventTypes,
  type AuthDiscovery,
  type OidcDiscovery,
  type SignInResult,
  type ApiOutput,
  type ConnectionInfo,
  type ConnectionState,
  type ConsoleEvent,
  type ConsoleEventPayload,
  type ConsoleMethods,
  type RewindEvent,
  type Role,
  type SandboxSecrets,
  type SandboxSettings,
} from '../../../preload/contract/index.js';
import {
  isSandboxConnection,
  loadConnections,
  newConnectionId,
  updateConnections,
  type RemoteConnection,
  type SandboxConnection,
  type SavedConnection,
} from './connections-file.js';
import { NOTIFICATION_MUTES_FILE, NotificationMutes } from './notification-mutes.js';
import { backupSandbox, removeSandboxFiles, type SandboxContents, sandboxContents, scratchCopy, scratchSandbox } from './sandbox-reset.js';
import { type SandboxRuntime, SandboxRuntimes } from './sandbox-runtime.js';
import type { TokenVault } from './token-vault.js';
import { type SsoDriver, SsoSignIns, connectionSession, keepSignIn, keptSignIn } from './sso.js';
import type { SignInProvider } from '../../sign-in/provider.js';
import type { SignInTokens } from '../../sign-in/tokens.js';
import { chainBroken, checkHead, extendsHead, type HeadAlarm, VerifiedHeads } from './verified-heads.js';

export const SANDBOX_ID = 'sandbox';
/** The newest (seq, hash) this console verified per connection, beside the connections file. */
export const VERIFIED_HEADS_FILE = 'verified-heads.json';
/** Live events move the remembered head often: the file is rewritten at most this often. */
const HEADS_SAVE_MS = 1000;

/** What a remote backend needs; `main/backends/remote/` provides the real factory. */
export interface RemoteOptions {
  url: string;
  /** An API token, or a person's sign-in (a source of fresh JWTs). */
  token: Credentials;
}
/** A workflow server's backend, which can also say who its token is (GET /api/v1/whoami) and how people sign in (GET /api/v1/auth). */
export interface RemoteBackendLike extends Backend {
  whoami(): Promise<{ name: string; role?: Role; environment?: string | null }>;
  authMethods?(): Promise<AuthDiscovery>;
}
export type CreateRemote = (options: RemoteOptions) => RemoteBackendLike;

/** A push to the console's renderers: main → renderer over IPC, or a browser-mode WebSocket. */
export type ConsolePush = <E extends ConsoleEvent>(event: E, payload: ConsoleEventPayload<E>) => void;

/** `connections:add` after parsing: defaults applied. */
export type AddConnectionInput = z.output<ConsoleMethods['connections:add']['input']>;
/** `connections:addSso` after parsing. */
export type AddSsoInput = z.output<ConsoleMethods['connections:addSso']['input']>;
/** What a sign-in is for: a connection to add, or an existing one to sign in. */
type SignInTarget = { kind: 'add'; input: AddSsoInput } | { kind: 'signIn'; id: string };
/** `snapshots:create` after parsing: defaults applied. */
export type CreateSnapshotInput = z.output<ConsoleMethods['snapshots:create']['input']>;

export interface ConnectionManagerOptions {
  /**
   * The local sandbox, already open (with `runtimes`' settings for it); it is always in the list and
   * cannot be removed. `reopen` opens it again at the same path (new execution settings);
   * `reopenWithDemo` opens a fresh one there seeded with the demo ("Reset sandbox to the demo").
   */
  sandbox: {
    backend: EngineBackend;
    path: string;
    reopen?: (runtime: SandboxRuntime) => Promise<EngineBackend>;
    reopenWithDemo?: (runtime: SandboxRuntime) => Promise<EngineBackend>;
  };
  /**
   * Opens another sandbox file (`connections:openSandbox`); by default as the local sandbox's actor,
   * runs unscaled. Without a runtime (a rehearsal's scratch copy) it runs offline.
   */
  openSandboxFile?: (path: string, runtime?: SandboxRuntime) => Promise<EngineBackend>;
  /** Opens a new sandbox file seeded with the demo, offline (a rehearsal's fresh scratch); by default as the local sandbox's actor. */
  openDemoSandbox?: (path: string) => Promise<EngineBackend>;
  /** Each sandbox's execution settings and keychain secrets (by default over `vault` and `dir`). */
  runtimes?: SandboxRuntimes;
  /** The folder holding the connections file. */
  dir: string;
  vault: TokenVault;
  createRemote: CreateRemote;
  /** First and longest wait between attempts to reach a server whose event log head is unknown yet. */
  retryMs?: { base: number; cap: number };
  /** How "Sign in with SSO" reaches the provider's pages (the desktop's system browser, or browser mode's redirect); none: SSO is refused. */
  sso?: SsoDriver;
}

export interface ConnectionManager {
  list(): ConnectionInfo[];
  add(input: AddConnectionInput): Promise<ConnectionInfo>;
  remove(id: string): Promise<boolean>;
  select(id: string): ConnectionInfo;
  /** Replace a remote server's token in the vault and reconnect with it. */
  setToken(id: string, token: string): Promise<ConnectionInfo>;
  /** How the server at `url` lets people in. */
  authMethods(url: string): Promise<AuthDiscovery>;
  /** Adds a server by signing in with SSO (desktop: completes; browser mode: the address the page goes to). */
  addSso(input: AddSsoInput): Promise<SignInResult>;
  /** Signs a remote connection in with SSO (again). */
  signIn(id: string): Promise<SignInResult>;
  /** Browser mode: the provider sent the page back to the console's /callback: finishes that sign-in. */
  completeSignIn(callback: URL): Promise<ConnectionInfo>;
  /** Stops waiting for the desktop sign-in under way. */
  cancelSignIn(): boolean;
  /** Forgets (and revokes) a connection's SSO sign-in; the connection stays, signed out. */
  signOut(id: string): Promise<ConnectionInfo>;
  /** Silence (or hear again) a connection's desktop notifications: its events stop (or start) reaching `notifications:event`. */
  setMuted(id: string, muted: boolean): Promise<ConnectionInfo>;
  /** Open a sandbox file as one more connection, remembered in the connections file. */
  openSandbox(path: string): Promise<ConnectionInfo>;
  sandboxSettings(id: string): Promise<SandboxSettings>;
  /** Keeps a sandbox connection's execution settings and reopens it with them. */
  setSandboxSettings(id: string, settings: { live_execution: boolean; allow_commands: boolean }): Promise<SandboxSettings>;
  sandboxSecrets(id: string): Promise<SandboxSecrets>;
  setSandboxSecret(id: string, name: string, value: string): Promise<SandboxSecrets>;
  deleteSandboxSecret(id: string, name: string): Promise<SandboxSecrets>;
  /** Copy a remote connection's server into a sandbox file, pushing `snapshots:progress`; resumes an unfinished one. */
  createSnapshot(input: CreateSnapshotInput): Promise<ApiOutput<'snapshots:create'>>;
  /** The selected connection's backend; throws a typed error when it cannot be used at all (no token). */
  selectedBackend(): Backend;
  /** A scratch copy of the selected connection when it is a sandbox (null for a server): what a rehearsal changes instead. */
  scratchCopyOfSelected(): Promise<{ backend: EngineBackend; dispose(): Promise<void> } | null>;
  /** A fresh demo sandbox in a temporary folder (a scenario rehearsed from the demo while the operator's sandbox stays as it is). */
  freshDemoSandbox(): Promise<{ backend: EngineBackend; dispose(): Promise<void> }>;
  /** What resetting the local sandbox would throw away. */

  sandboxContents(): Promise<SandboxContents>;
  /** Sets the local sandbox aside (kept as `<file>.before-reset`) and opens a fresh one with the demo. */
  resetSandbox(): Promise<SandboxContents>;
  onPush(listener: ConsolePush): () => void;
  /** Sends a push of another console service (rehearsal progress) to the same listeners. */
  push: ConsolePush;
  close(): Promise<void>;
}

const DEFAULT_COLORS = { sandbox: '#4f7cff', staging: '#d97706', production: '#dc2626' } as const;
const ROLE_RANK: Record<Role, number> = { viewer: 0, operator: 1, admin: 2 };
/** How many notified events are remembered for telling a second connection's copy apart. */
const NOTIFIED_KEPT = 2000;

interface Live {
  /** As the connections file keeps it; null for the local sandbox. */
  config: SavedConnection | null;
  kind: 'sandbox' | 'remote';
  url: string;
  backend: Backend | null;
  /** Remote only: asks the server who the token is, its role, and what environment it serves. */
  identify: (() => Promise<{ name: string; role?: Role; environment?: string | null }>) | null;
  actor: string | null;
  role: Role | null;
  serverEnvironment: string | null;
  snapshot: ConnectionInfo['snapshot'];
  archive: ConnectionInfo['archive'];
  hasToken: boolean;
  /** An SSO connection's sign-in while it lasts (refreshes itself; ended: sign in again). */
  session: OidcSession | null;
  state: ConnectionState;
  detail: string | null;
  /** Set once the subscription was live: afterwards a drop is "reconnecting", before it "unreachable". */
  everConnected: boolean;
  /** A tampered or truncated log: the console's red banner. */
  alarm: HeadAlarm | null;
  /** The server's stable id, from its log's head (null until read, or from a server that predates it). */
  serverId: string | null;
  /** The `notifications:event` pushes of this connection, one after the other, so they keep the log's order. */
  notifying: Promise<void>;
  stop: () => void;
}

/**
 * The console's connections: the local sandbox plus the remote servers of the connections file.
 * Each connection's state follows its backend's event subscription; each event of the selected
 * connection is pushed as `events:appended`, each change of the list or a state as `connections:changed`.
 * The same subscriptions watch every connection for the operator: the notifiable events of each one
 * not muted, selected or not, are pushed as `notifications:event` for the renderer's notification rules.
 */
export async function createConnectionManager(options: ConnectionManagerOptions): Promise<ConnectionManager> {
  // Read (and validate) the file before anything starts, so a bad file leaves nothing running.
  const saved = await loadConnections(options.dir);
  const heads = await VerifiedHeads.load(join(options.dir, VERIFIED_HEADS_FILE));
  const mutes = await NotificationMutes.load(join(options.dir, NOTIFICATION_MUTES_FILE));
  // Workflow names for notifications, per backend (a new token or a reset sandbox starts afresh).
  const workflowNames = new WeakMap<Backend, Map<string, string>>();
  let headsTimer: NodeJS.Timeout | null = null;
  const saveHeadsSoon = () => {
    headsTimer ??= setTimeout(() => {
      headsTimer = null;
      heads.save().catch(() => undefined);
    }, HEADS_SAVE_MS);
    headsTimer.unref();
  };
  const retry = options.retryMs ?? { base: 1000, cap: 30_000 };
  const runtimes = options.runtimes ?? new SandboxRuntimes(options.vault, options.dir);
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
    kind: c.kind,
    url: c.url,
    environment: c.config && !isSandboxConnection(c.config) ? c.config.environment : 'sandbox',
    server_environment: c.kind === 'sandbox' ? 'sandbox' : c.serverEnvironment,
    color: c.config?.color ?? DEFAULT_COLORS.sandbox,
    state: c.state,
    detail: c.detail,
    has_token: c.hasToken,
    sign_in: signInOf(c),
    selected: id === selectedId,
    actor: c.actor,
    role: c.role,
    snapshot: c.snapshot,
    archive: c.archive ?? null,
    alarm: c.alarm,
    notifications_muted: mutes.has(id),
    server_id: c.serverId,
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

  /** The workflow's name as the connection reads it, once per workflow; null when it cannot be read (the notification says its id). */
  const workflowName = async (backend: Backend, workflowId: string | null): Promise<string | null> => {
    if (workflowId === null) return null;
    let names = workflowNames.get(backend);
    if (!names) workflowNames.set(backend, (names = new Map()));
    const known = names.get(workflowId);
    if (known !== undefined) return known;
    try {
      const { name } = await backend.call('workflows:get', { workflow_id: workflowId });
      names.set(workflowId, name);
      return name;
    } catch {
      return null;
    }
  };
  /** Events already notified, per server (`server:seq:hash`), so two connections to one server notify once. */
  const notified = new Set<string>();
  /**
   * The connection a server's notification opens: of those reaching that server, the one with the
   * most rights (a viewer's cannot approve or roll back); the selected one, then this one, on a tie.
   */
  const bestConnectionTo = (id: string, c: Live): string => {
    if (serverKey(c) === null) return id;
    const rank = (x: Live) => (x.role === null ? -1 : ROLE_RANK[x.role]);
    let best: [string, Live] = [id, c];
    for (const entry of live) {
      const [otherId, other] = entry;
      if (serverKey(other) !== serverKey(c) || other.backend === null) continue;
      const better = rank(other) > rank(best[1]) || (rank(other) === rank(best[1]) && otherId === selectedId);
      if (better) best = entry;
    }
    return best[0];
  };
  /**
   * Queues a notifiable event of a connection not muted for `notifications:event`, in log order: once
   * per server (the first unmuted connection that hears it claims it), naming the connection with the
   * most rights to that server.
   */
  const notifyLater = (id: string, c: Live, backend: Backend, event: RewindEvent) => {
    if (!isNotifiable(event) || mutes.has(id)) return;
    const key = `${serverKey(c) ?? `connection:${id}`}:${event.seq}:${event.hash}`;
    if (notified.has(key)) return;
    notified.add(key);
    // Bounded: a key only needs to outlive the other connections' delivery of the same event.
    if (notified.size > NOTIFIED_KEPT) notified.delete(notified.values().next().value!);
    c.notifying = c.notifying.then(async () => {
      const name = await workflowName(backend, event.workflow_id);
      // Muted, removed or closed meanwhile: nothing more from it.
      if (!closed && live.get(id) === c && !mutes.has(id)) push('notifications:event', { connection_id: bestConnectionTo(id, c), event, workflow_name: name });
    }).catch(() => undefined);
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
    const identify = async () => {
      if (!c.identify) return;
      const who = await c.identify();
      const role = who.role ?? null;
      const environment = who.environment ?? null;
      if (!stopped && (who.name !== c.actor || role !== c.role || environment !== c.serverEnvironment)) {
        c.actor = who.name;
        c.role = role;
        c.serverEnvironment = environment;
        changed();
      }
    };
    const where = c.config?.name ?? 'The local sandbox';
    const setAlarm = (raised: HeadAlarm | null) => {
      const alarm = raised && readOnlyNote(backend, raised);
      if (alarm?.code === c.alarm?.code && alarm?.message === c.alarm?.message) return;
      c.alarm = alarm;
      changed();
    };
    /** Checks the log still holds what was verified here before; remembers its head unless it does not. */
    const verifyHead = async () => {
      const { head, alarm } = await checkHead(backend, heads.get(id, c.url), where);
      if (stopped) return head.seq;
      if ((head.server_id ?? null) !== c.serverId) {
        c.serverId = head.server_id ?? null;
        changed();
      }
      setAlarm(alarm);
      if (alarm?.code !== 'LOG_TRUNCATED') {
        heads.set(id, { source: c.url, seq: head.seq, hash: head.hash });
        saveHeadsSoon();
      }
      return head.seq;
    };
    const tryStart = () =>
      identify().then(verifyHead).then(
        (after) => {
          if (stopped) return;
          unsubscribe = backend.subscribe({
            after,
            onEvent: (event: RewindEvent) => {
              const last = heads.get(id, c.url);
              if (last && c.alarm?.code !== 'LOG_TRUNCATED') {
                if (extendsHead(last, event)) {
                  heads.set(id, { source: c.url, seq: event.seq, hash: event.hash });
                  saveHeadsSoon();
                } else if (event.seq > last.seq) {
                  setAlarm(chainBroken(where, event.seq, `event ${event.seq} does not follow event ${last.seq} as verified by this console`));
                }
              }
              // A break found after the connection was checked (the server's background walk of the chain): red from now on.
              if (event.type === 'chain_broken' && c.alarm?.code !== 'LOG_TRUNCATED') {
                const seq = typeof event.payload.first_broken_seq === 'number' ? event.payload.first_broken_seq : null;
                setAlarm(chainBroken(where, seq, typeof event.payload.reason === 'string' ? event.payload.reason : null));
              }
              if (id === selectedId) push('events:appended', { connection_id: id, event });
              notifyLater(id, c, backend, event);
            },
            onState: (state, detail) => onSubscriptionState(c, state, detail),
          });
          // The sandbox is in-process: once subscribed it is live, whether or not it reports states.
          if (backend.kind === 'sandbox') onSubscriptionState(c, 'live');
        },
        (err: unknown) => {
          if (stopped) return;
          const refused = err instanceof RewindError && ['UNAUTHORIZED', 'FORBIDDEN', 'NO_ROLE', 'PROTOCOL_MISMATCH', 'TLS_FAILED'].includes(err.code);
          setState(c, refused ? 'refused' : 'unreachable', err instanceof RewindError && err.code === 'UNAUTHORIZED' ? badTokenDetail(err, signInOf(c)) : errorDetail(err));
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
    ? `The OS keychain could not open this connection’s token (the keychain is locked, or was reset). ${REPLACE_TOKEN}`
    : `Browser mode keeps tokens in memory only, for one session, so this connection’s token is gone since the last start. ${REPLACE_TOKEN} The desktop app keeps tokens in the OS keychain.`;

  /** Points a remote connection at a new backend for `token` (or none, saying why), from a fresh state. */
  const connectRemote = (c: Live, url: string, token: Credentials | null, noTokenDetail = missingTokenDetail) => {
    c.backend = null;
    c.identify = null;
    c.actor = null;
    c.role = null;
    c.serverEnvironment = null;
    c.everConnected = false;
    c.hasToken = token !== null;
    c.detail = token === null ? noTokenDetail : null;
    if (token !== null) {
      try {
        const remote = options.createRemote({ url, token });
        c.backend = remote;
        c.identify = async () => {
          const { name, role, environment } = await remote.whoami();
          return { name, role, environment };
        };
      } catch (err) {
        // A hand-edited file may hold a URL the client refuses: show it on that connection, keep the rest.
        c.detail = errorDetail(err);
      }
    }
    c.state = c.backend ? 'connecting' : 'refused';
  };

  const sso = new SsoSignIns<SignInTarget>(options.sso ?? null);
  const signedOutDetail = options.vault.persistent
    ? `Not signed in. ${SIGN_IN_AGAIN}`
    : `Browser mode keeps sign-ins in memory only, for one session. ${SIGN_IN_AGAIN} The desktop app keeps them in the OS keychain.`;

  /** The connection's sign-in as its credentials; when it ends for good, the connection says so and asks for a new one. */
  const attachSession = (id: string, c: Live, discovery: OidcDiscovery, begin: Parameters<typeof connectionSession>[3]): OidcSession => {
    const session = connectionSession(options.vault, id, discovery, begin, (error) => {
      if (c.session !== session || closed) return;
      // What the person was looking at stays on screen; the connection asks for a new sign-in.
      void (async () => {
        c.stop();
        await c.backend?.close();
        c.session = null;
        await options.vault.delete(id).catch(() => undefined);
        connectRemote(c, c.url, null, `${error.message} ${SIGN_IN_AGAIN}`);
        changed();
      })();
    });
    c.session?.close();
    c.session = session;
    return session;
  };

  const openRemote = async (config: RemoteConnection): Promise<Live> => {
    const c = blank(config, 'remote', config.url);
    if (config.sign_in === 'oidc') {
      const kept = await keptSignIn(options.vault, config.id);
      connectRemote(c, config.url, kept && attachSession(config.id, c, kept.discovery, { refreshToken: kept.refresh_token }), signedOutDetail);
    } else {
      connectRemote(c, config.url, await options.vault.get(config.id));
    }
    live.set(config.id, c);
    void start(config.id, c);
    return c;
  };

  /** How the server at `url` lets people in (asked without a token). */
  const authMethods = async (url: string): Promise<AuthDiscovery> => {
    const probe = options.createRemote({ url, token: '' });
    try {
      if (!probe.authMethods) throw new RewindError('SIGN_IN_FAILED', `${url} cannot be asked how to sign in.`, 'Add it with an API token.');
      return await probe.authMethods();
    } finally {
      await probe.close();
    }
  };
  const oidcOf = async (url: string): Promise<OidcDiscovery> => {
    const auth = await authMethods(url);
    if (!auth.oidc) {
      throw new RewindError('SIGN_IN_FAILED', `${url} offers API tokens only: it has no SSO sign-in.`, 'Add it with an API token (an admin issues one with `rewind tokens create`), or ask its operator to start it with --oidc-issuer.');
    }
    return auth.oidc;
  };

  /** A sign-in done: a new connection, kept like one added with a token (the keychain first, then the file). */
  const finishAdd = (input: AddSsoInput, discovery: OidcDiscovery, started: { tokens: SignInTokens; provider: SignInProvider }) =>
    serial(async () => {
      const name = input.name.trim();
      if (nameTaken(name)) throw duplicateName(name);
      const config: RemoteConnection = { id: newConnectionId(), name, url: input.url, environment: input.environment, color: input.color ?? DEFAULT_COLORS[input.environment], sign_in: 'oidc' };
      if (started.tokens.refreshToken !== null) await keepSignIn(options.vault, config.id, discovery, started.tokens.refreshToken);
      try {
        await updateConnections(options.dir, (current) => {
          if (current.some((c) => c.name.toLowerCase() === name.toLowerCase())) throw duplicateName(name);
          return [...current, config];
        });
      } catch (err) {
        await options.vault.delete(config.id);
        throw err;
      }
      const c = blank(config, 'remote', config.url);
      connectRemote(c, config.url, attachSession(config.id, c, discovery, started), signedOutDetail);
      live.set(config.id, c);
      void start(config.id, c);
      changed();
      return info(config.id, c);
    });

  /** A sign-in done for an existing connection: it now comes in as the person (its token, if it had one, is forgotten). */
  const finishSignIn = (id: string, discovery: OidcDiscovery, started: { tokens: SignInTokens; provider: SignInProvider }) =>
    serial(async () => {
      const c = find(id);
      const config = c.config;
      if (!config || isSandboxConnection(config)) throw notRemote(c);
      if (started.tokens.refreshToken !== null) await keepSignIn(options.vault, id, discovery, started.tokens.refreshToken);
      else await options.vault.delete(id);
      if (config.sign_in !== 'oidc') {
        await updateConnections(options.dir, (current) => current.map((r) => (r.id === id && !isSandboxConnection(r) ? { ...r, sign_in: 'oidc' as const } : r)));
        config.sign_in = 'oidc';
      }
      c.stop();
      await c.backend?.close();
      connectRemote(c, config.url, attachSession(id, c, discovery, started), signedOutDetail);
      changed();
      void start(id, c);
      return info(id, c);
    });

  const openSandboxFile =
    options.openSandboxFile ?? ((path: string, runtime?: SandboxRuntime) => openSandbox({ path, actor: options.sandbox.backend.defaultActor, ...runtime }));

  /** A remembered sandbox file; one that cannot be opened any more shows why on its connection. */
  const openSavedSandbox = async (config: SandboxConnection): Promise<void> => {
    const c = blank(config, 'sandbox', config.path);
    try {
      const runtime = await runtimes.runtime(config.id);
      await attachSandbox(c, await openSandboxChecked(config.path, (path) => openSandboxFile(path, runtime)));
    } catch (err) {
      c.state = 'unreachable';
      c.detail = errorDetail(err);
    }
    live.set(config.id, c);
    await start(config.id, c);
  };

  const sandbox = blank(null, 'sandbox', options.sandbox.path);
  await attachSandbox(sandbox, options.sandbox.backend);
  live.set(SANDBOX_ID, sandbox);
  // In-process and quick: wait, so no sandbox event can fall between opening and subscribing.
  await start(SANDBOX_ID, sandbox);
  for (const config of saved) {
    if (isSandboxConnection(config)) await openSavedSandbox(config);
    else await openRemote(config);
  }

  /** Paths a snapshot is writing right now: nothing else may open or write them meanwhile. */
  const snapshotting = new Set<string>();
  const sandboxWith = (path: string) => [...live].find(([, c]) => c.kind === 'sandbox' && resolve(c.url) === path);
  const find = (id: string): Live => {
    const c = live.get(id);
    if (!c) {
      throw new RewindError('CONNECTION_NOT_FOUND', `There is no connection ${id}.`, 'Pick one from the connection list; it may have been removed.');
    }
    return c;
  };

  const localSandbox = (): EngineBackend => {
    if (!(sandbox.backend instanceof EngineBackend)) throw new RewindError('INTERNAL', 'The local sandbox is not open.', 'Restart Rewind.');
    return sandbox.backend;
  };

  const nameTaken = (name: string) => list().some((c) => c.name.toLowerCase() === name.toLowerCase());

  /** A sandbox connection (the local one or an opened file): what execution settings and secrets belong to. */
  const sandboxConnection = (id: string): Live => {
    const c = find(id);
    if (c.kind !== 'sandbox') {
      throw new RewindError(
        'VALIDATION_FAILED',
        `${c.config?.name ?? id} is a workflow server: its http and command nodes always run for real, with its own secrets.`,
        'A server reads {{secret.NAME}} from REWIND_SECRET_NAME in its own environment; these settings are for sandboxes.',
      );
    }
    return c;
  };

  /** Closes a sandbox connection's backend and attaches the one `open` gives, then listens to it again. */
  const reattach = async (id: string, c: Live, open: () => Promise<EngineBackend>): Promise<void> => {
    c.stop();
    await c.backend?.close();
    c.backend = null;
    try {
      await attachSandbox(c, await open());
    } catch (err) {
      c.state = 'unreachable';
      c.detail = errorDetail(err);
      throw err;
    } finally {
      c.everConnected = false;
      await start(id, c);
      changed();
    }
  };

  /** Opens a sandbox connection's file again, as its settings and secrets now say. */
  const reopenSandbox = (id: string, c: Live, runtime: SandboxRuntime): Promise<EngineBackend> => {
    if (id === SANDBOX_ID) {
      const reopen = options.sandbox.reopen;
      if (!reopen) throw cannotReopen('reopen');
      return reopen(runtime);
    }
    return openSandboxChecked(c.url, (path) => openSandboxFile(path, runtime));
  };

  return {
    list,
    add: (input) =>
      serial(async () => {
        const name = input.name.trim();
        if (nameTaken(name)) throw duplicateName(name);
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
          await updateConnections(options.dir, (current) => {
            // Another console may have taken the name since this one read the file.
            if (current.some((c) => c.name.toLowerCase() === name.toLowerCase())) throw duplicateName(name);
            return [...current, config];
          });
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
          throw new RewindError('FORBIDDEN', 'The local sandbox cannot be removed.', 'It is always there for rehearsals; remove remote servers and opened sandbox files only.');
        }
        const c = live.get(id);
        if (!c) return false;
        await updateConnections(options.dir, (current) => current.filter((r) => r.id !== id));
        // An opened sandbox file is only forgotten: the file itself stays where it is; its settings and secrets go.
        if (c.kind === 'remote') await options.vault.delete(id);
        else await runtimes.forget(id);
        heads.delete(id);
        saveHeadsSoon();
        // Its mute goes with it; failing to write that leaves only an unused id in the file.
        await mutes.set(id, false).catch(() => undefined);
        live.delete(id);
        c.stop();
        await c.backend?.close();
        // A removed connection's sign-in is revoked where the provider can.
        const session = c.session;
        c.session = null;
        void session?.signOut();
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
    setToken: (id, token) =>
      serial(async () => {
        const c = find(id);
        if (!c.config || isSandboxConnection(c.config)) {
          throw new RewindError('VALIDATION_FAILED', `${c.config?.name ?? 'The local sandbox'} is a sandbox: it has no token.`, 'Tokens belong to remote servers; pick one of those.');
        }
        const config = c.config;
        // The keychain first: if it refuses, the connection keeps its old token and backend.
        await options.vault.set(id, token);
        // A token instead of a sign-in: the sign-in is forgotten (its refresh token was just overwritten).
        if (config.sign_in === 'oidc') {
          await updateConnections(options.dir, (current) => current.map((r) => (r.id === id && !isSandboxConnection(r) ? { ...r, sign_in: 'token' as const } : r)));
          config.sign_in = 'token';
          c.session?.close();
          c.session = null;
        }
        c.stop();
        await c.backend?.close();
        connectRemote(c, config.url, token);
        changed();
        void start(id, c);
        return info(id, c);
      }),
    authMethods,
    async addSso(input) {
      if (nameTaken(input.name.trim())) throw duplicateName(input.name.trim());
      const discovery = await oidcOf(input.url);
      // The wait for the browser happens outside the queue: adding or removing others meanwhile is not held up.
      const started = await sso.begin(discovery, { kind: 'add', input });
      if ('redirect' in started) return { connection: null, redirect: started.redirect };
      return { connection: await finishAdd(input, discovery, started), redirect: null };
    },
    async signIn(id) {
      const c = find(id);
      if (c.kind !== 'remote') throw notRemote(c);
      const discovery = await oidcOf(c.url);
      const started = await sso.begin(discovery, { kind: 'signIn', id });
      if ('redirect' in started) return { connection: null, redirect: started.redirect };
      return { connection: await finishSignIn(id, discovery, started), redirect: null };
    },
    async completeSignIn(callback) {
      const { target, tokens, provider } = await sso.complete(callback);
      try {
        if (target.kind === 'add') {
          const added = await finishAdd(target.input, provider.discovery, { tokens, provider });
          selectedId = added.id;
          changed();
          return info(added.id, find(added.id));
        }
        return await finishSignIn(target.id, provider.discovery, { tokens, provider });
      } catch (err) {
        // A sign-in this console started (a name taken meanwhile, the keychain refusing): the page may offer the way back.
        const data = err instanceof RewindError ? err : new RewindError('INTERNAL', err instanceof Error ? err.message : String(err), 'Try the sign-in again.');
        throw new RewindError(data.code, data.message, data.hint, { ...data.details, started_here: true });
      }
    },
    cancelSignIn: () => sso.cancel(),
    signOut: (id) =>
      serial(async () => {
        const c = find(id);
        if (c.kind !== 'remote' || signInOf(c) !== 'oidc') throw new RewindError('VALIDATION_FAILED', `${c.config?.name ?? id} is not signed in with SSO.`, 'Sign out applies to connections signed in with SSO; a token connection is removed or given another token.');
        const session = c.session;
        c.session = null;
        c.stop();
        await c.backend?.close();
        await options.vault.delete(id);
        connectRemote(c, c.url, null, `Signed out. ${SIGN_IN_AGAIN}`);
        changed();
        // Revoked where the provider can (best effort: it is forgotten here either way).
        await session?.signOut();
        return info(id, c);
      }),
    async setMuted(id, muted) {
      const c = find(id);
      await mutes.set(id, muted);
      changed();
      return info(id, c);
    },
    openSandbox: (rawPath) =>
      serial(async () => {
        const given = resolve(rawPath);
        // A run archive opens as a read-only sandbox file imported from it (once; the same file again reuses it).
        const archive = isArchiveFile(given);
        const path = archive ? await sandboxOfArchive(given, join(options.dir, 'archives')) : given;
        const open = sandboxWith(path);
        if (open) return info(open[0], open[1]);
        if (snapshotting.has(path)) throw snapshotBusy(path);
        const backend = await openSandboxChecked(path, openSandboxFile);
        const config: SandboxConnection = { kind: 'sandbox', id: newConnectionId('sandbox'), name: freeName(archive ? archiveName(given) : nameOf(path), nameTaken), path, color: DEFAULT_COLORS.sandbox };
        try {
          await updateConnections(options.dir, (current) => [...current, config]);
        } catch (err) {
          await backend.close();
          throw err;
        }
        const c = blank(config, 'sandbox', path);
        await attachSandbox(c, backend);
        live.set(config.id, c);
        await start(config.id, c);
        changed();
        return info(config.id, c);
      }),
    sandboxSettings: async (id) => {
      sandboxConnection(id);
      return runtimes.settings(id);
    },
    setSandboxSettings: (id, settings) =>
      serial(async () => {
        const c = sandboxConnection(id);
        // Refused before anything is saved when the sandbox could not be reopened with the new settings.
        if (id === SANDBOX_ID && !options.sandbox.reopen) throw cannotReopen('reopen');
        const before = await runtimes.settings(id);
        const saved = await runtimes.setSettings(id, settings);
        try {
          await reattach(id, c, async () => reopenSandbox(id, c, await runtimes.runtime(id)));
        } catch (err) {
          // The file would not open so: back to the settings it opened with, and say why.
          await runtimes.setSettings(id, before);
          if (!c.backend) await reattach(id, c, async () => reopenSandbox(id, c, await runtimes.runtime(id))).catch(() => undefined);
          throw err;
        }
        return saved;
      }),
    sandboxSecrets: async (id) => {
      sandboxConnection(id);
      return runtimes.secrets(id);
    },
    setSandboxSecret: (id, name, value) =>
      serial(async () => {
        sandboxConnection(id);
        return runtimes.setSecret(id, name, value);
      }),
    deleteSandboxSecret: (id, name) =>
      serial(async () => {
        sandboxConnection(id);
        return runtimes.deleteSecret(id, name);
      }),
    async createSnapshot(input) {
      const c = find(input.connection_id);
      if (c.kind !== 'remote') {
        throw new RewindError('SNAPSHOT_SOURCE_IS_SANDBOX', `${c.config?.name ?? 'The local sandbox'} is a sandbox; only a remote server can be snapshotted.`, 'Pick a remote server connection (a sandbox file is already offline: copy the file instead).');
      }
      if (!c.backend) throw new RewindError('UNAUTHORIZED', `${c.config?.name ?? input.connection_id} has no token.`, c.detail ?? missingTokenDetail);
      const path = snapshotTargetPath(input.path, c.url);
      if (sandboxWith(path)) {
        throw new RewindError('SNAPSHOT_TARGET_OPEN', `${path} is open as a connection.`, 'Remove that connection first (the file stays), or snapshot into another file (or a folder, ending the path with /).', { path });
      }
      if (snapshotting.has(path)) throw snapshotBusy(path);
      snapshotting.add(path);
      try {
        return await snapshotServer({
          backend: c.backend,
          sourceUrl: c.url,
          path,
          runs: input.runs,
          onProgress: (progress) => {
            if (!closed) push('snapshots:progress', { path, ...progress });
          },
        });
      } finally {
        snapshotting.delete(path);
      }
    },
    selectedBackend() {
      const c = find(selectedId);
      if (!c.backend) throw new RewindError('UNAUTHORIZED', `${c.config?.name ?? selectedId} has no token.`, c.detail ?? missingTokenDetail);
      return c.backend;
    },
    freshDemoSandbox() {
      return scratchSandbox(options.openDemoSandbox ?? ((path) => openSandbox({ path, actor: options.sandbox.backend.defaultActor, demo: true })));
    },
    async scratchCopyOfSelected() {
      const c = find(selectedId);
      if (c.kind !== 'sandbox' || !(c.backend instanceof EngineBackend)) return null;
      return scratchCopy(c.backend, openSandboxFile);
    },
    sandboxContents() {
      return sandboxContents(localSandbox(), options.sandbox.path);
    },
    resetSandbox: () =>
      serial(async () => {
        const reopen = options.sandbox.reopenWithDemo;
        if (!reopen) throw cannotReopen('reset');
        const before = localSandbox();
        const lost = await sandboxContents(before, options.sandbox.path);
        const previous = await before.call('events:head', {});
        // A consistent copy first (online backup, WAL included): a reset by mistake is undone by opening it.
        await backupSandbox(before, lost.kept_as);
        // The log this console verified is gone on purpose: it remembers no head for the new one, so
        // the fresh log is not mistaken for a truncated one (now or after a restart). A log cut short
        // by anything else still meets the remembered head and raises the alarm.
        heads.delete(SANDBOX_ID);
        await heads.save();
        await reattach(SANDBOX_ID, sandbox, async () => {
          await removeSandboxFiles(options.sandbox.path);
          const fresh = await reopen(await runtimes.runtime(SANDBOX_ID));
          await recordReset(fresh, previous, lost.kept_as);
          return fresh;
        });
        return lost;
      }),
    onPush(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    push: (event, payload) => {
      if (!closed) push(event, payload);
    },
    async close() {
      if (closed) return;
      closed = true;
      listeners.clear();
      await queue;
      sso.cancel();
      for (const c of live.values()) {
        c.stop();
        c.session?.close();
      }
      if (headsTimer) clearTimeout(headsTimer);
      await heads.save().catch(() => undefined);
      await Promise.allSettled([...live.values()].map((c) => c.backend?.close()));
    },
  };
}

/**
 * The reset, as the new log's own record (`sandbox_reset`): which log it replaced — its head, so a
 * reader can match it to the copy kept beside the file — and where that copy is.
 */
async function recordReset(fresh: EngineBackend, previous: { seq: number; hash: string }, keptAs: string): Promise<void> {
  await fresh.engine.mutate(() =>
    fresh.engine.append({
      type: 'sandbox_reset',
      workflow_id: null,
      run_id: null,
      actor: fresh.defaultActor,
      payload: { previous_head: { seq: previous.seq, hash: previous.hash }, kept_as: keptAs, by: 'console' },
    }),
  );
}

function blank(config: SavedConnection | null, kind: Live['kind'], url: string): Live {
  return {
    config,
    kind,
    url,
    backend: null,
    identify: null,
    actor: null,
    role: null,
    serverEnvironment: null,
    snapshot: null,
    archive: null,
    hasToken: false,
    session: null,
    state: 'connecting',
    detail: null,
    everConnected: false,
    alarm: null,
    serverId: null,
    notifying: Promise.resolve(),
    stop: () => undefined,
  };
}

const notifiable: ReadonlySet<string> = new Set(notifiableEventTypes);
const isNotifiable = (e: RewindEvent) => notifiable.has(e.type);

/**
 * What tells one server from another for notifications: a remote server's id. Sandboxes are files,
 * each its own: a copied file keeps its original's id, yet it is another log.
 */
function serverKey(c: Live): string | null {
  return c.kind === 'remote' ? c.serverId : null;
}

/** A sandbox with a broken chain refuses changes: the banner says so. */
function readOnlyNote(backend: Backend, alarm: HeadAlarm): HeadAlarm {
  if (alarm.code !== 'CHAIN_BROKEN' || !(backend instanceof EngineBackend) || !backend.readOnly) return alarm;
  return { ...alarm, message: `${alarm.message} It is open read-only: changes are refused.` };
}

async function attachSandbox(c: Live, backend: EngineBackend): Promise<void> {
  c.backend = backend;
  c.actor = backend.defaultActor;
  // The sandbox is the operator's own file: every action is allowed — but an archive is only read.
  c.role = backend.archive ? 'viewer' : 'admin';
  c.snapshot = snapshotInfo(parseSnapshotMeta(await backend.engine.store.read.all<{ key: string; value: string }>(SNAPSHOT_META_SQL), c.url));
  c.archive = backend.archive;
}

function snapshotInfo(meta: SnapshotMeta | null): ConnectionInfo['snapshot'] {
  return meta && { source_url: meta.sourceUrl, taken_at: meta.takenAt, complete: meta.complete, runs: meta.cursor.runs, events: meta.cursor.events };
}

/** Opens a sandbox file only if it is one: never creates, migrates or adopts anything else. */
async function openSandboxChecked(path: string, open: (path: string) => Promise<EngineBackend>): Promise<EngineBackend> {
  const file = inspectSandboxFile(path);
  if (file.kind === 'missing') {
    throw new RewindError('NOT_FOUND', `There is no file at ${path}.`, 'Check the path; a snapshot is written with “Snapshot server” first.', { path });
  }
  if (file.empty) {
    throw new RewindError('VALIDATION_FAILED', `${path} is an empty database, not a Rewind sandbox.`, 'Pick a sandbox database written by Rewind (the local sandbox, a rehearsal copy or a snapshot).', { path });
  }
  if (file.snapshot && !file.snapshot.complete) {
    throw new RewindError('VALIDATION_FAILED', `${path} is an unfinished snapshot of ${file.snapshot.sourceUrl}.`, 'Run the snapshot again into the same file: it resumes where it stopped. Then open it.', {
      path,
    });
  }
  return open(path);
}

function cannotReopen(verb: 'reopen' | 'reset'): RewindError {
  return new RewindError('FORBIDDEN', `This console cannot ${verb} its sandbox.`, 'Start the console with its own sandbox file (the desktop app or `npm run web`).');
}

function duplicateName(name: string): RewindError {
  return new RewindError('DUPLICATE_NAME', `A connection named “${name}” already exists.`, 'Choose another name, or remove the existing connection first.');
}

function snapshotBusy(path: string): RewindError {
  return new RewindError('BUSY', `A snapshot is being written to ${path}.`, 'Wait for it to finish (its progress is shown), then try again.', { path });
}

function nameOf(path: string): string {
  return (basename(path, extname(path)) || basename(path)).slice(0, 90);
}

/** `name`, or `name (2)`, `name (3)`…: connection names are unique, case-insensitively. */
function freeName(name: string, taken: (name: string) => boolean): string {
  if (!taken(name)) return name;
  for (let i = 2; ; i++) if (!taken(`${name} (${i})`)) return `${name} (${i})`;
}

/** The one remedy for a token the server does not take, named as the console's menu names it. */
const REPLACE_TOKEN = 'Use “Replace token” on this connection to give it a valid token.';
/** …and for a sign-in that ended. */
const SIGN_IN_AGAIN = 'Sign in again: “Sign in with SSO” on this connection.';

function badTokenDetail(err: RewindError, signIn: 'token' | 'oidc'): string {
  if (signIn === 'oidc') return `${err.message} ${err.code === 'UNAUTHORIZED' ? SIGN_IN_AGAIN : err.hint}`;
  return `${err.message} ${REPLACE_TOKEN}`;
}

function signInOf(c: Live): 'token' | 'oidc' {
  return c.config && !isSandboxConnection(c.config) && c.config.sign_in === 'oidc' ? 'oidc' : 'token';
}

function notRemote(c: Live): RewindError {
  return new RewindError('VALIDATION_FAILED', `${c.config?.name ?? 'The local sandbox'} is a sandbox: there is nothing to sign in to.`, 'Sign-in belongs to remote servers; pick one of those.');
}

function errorDetail(err: unknown): string {
  return err instanceof RewindError ? `${err.message} ${err.hint}` : err instanceof Error ? err.message : String(err);
}
