import { randomUUID } from 'node:crypto';
import type { z } from 'zod';
import { type BackendMethod, type MethodInput, type MethodOutput, backendMethods } from '../../../preload/contract/index.js';
import { RewindError } from '../../engine/errors.js';
import { parseInput } from '../../engine/validate.js';
import { type AuthDiscovery, authDiscoverySchema } from '../../../preload/contract/index.js';
import { type Health, PROTOCOL_VERSION, type Whoami, healthSchema, serverRoutes, whoamiSchema } from '../../protocol/wire.js';
import { type CompiledRoute, routes, splitInput } from '../../protocol/routes.js';
import type { Backend, CallContext, SubscribeOptions } from '../backend.js';
import { type BackoffOptions, backoffDelay } from './backoff.js';
import { type Credentials, bearerOf, canRefresh } from './credentials.js';
import { answerError, protocolError, transportError } from './errors.js';
import { RemoteSubscription } from './subscription.js';

export interface RemoteOptions {
  /** The server's base URL, e.g. https://rewind.example:8443. */
  url: string;
  /** An API token, or a person's sign-in that refreshes itself (see credentials.ts). */
  token: Credentials;
  /** Per request. */
  timeoutMs?: number;
  /** For calls that wait for a run to end (`wait: true`, replay). */
  waitTimeoutMs?: number;
  /** Further attempts after a connection failure or a 503; mutations keep their idempotency key, so they apply once. */
  retries?: number;
  /** Reconnect delays of the event stream. */
  backoff?: Partial<BackoffOptions>;
}

export type Identity = Whoami;

const routeOf = new Map<BackendMethod, CompiledRoute>(routes.map((r) => [r.method, r]));

/** Connection-level failures that happened before the server could act, or a busy server: safe to retry. */
function retryable(err: RewindError): boolean {
  return err.code === 'BUSY' || (err.code === 'UNREACHABLE' && err.details?.cause !== undefined);
}

/**
 * The `Backend` of a workflow server, over fetch and `ws`. Every input is parsed against the contract
 * before it is sent, every answer against the contract's output schema after; mutations carry an
 * Idempotency-Key (the caller's, or one generated per call and kept across its retries) and their
 * expected revision as If-Match.
 */
export class RemoteBackend implements Backend {
  readonly kind = 'remote' as const;
  readonly baseUrl: string;
  private readonly token: Credentials;
  private readonly timeoutMs: number;
  private readonly waitTimeoutMs: number;
  private readonly retries: number;
  private readonly backoff: BackoffOptions;
  private readonly closing = new AbortController();
  private readonly subscriptions = new Set<RemoteSubscription>();
  private compatible: Promise<Health> | null = null;

  constructor(options: RemoteOptions) {
    let url: URL;
    try {
      url = new URL(options.url);
    } catch {
      throw new RewindError('VALIDATION_FAILED', `"${options.url}" is not a URL.`, 'Give the server as http(s)://host:port.');
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new RewindError('VALIDATION_FAILED', `"${options.url}" is not an http(s) URL.`, 'Give the server as http(s)://host:port.');
    }
    this.baseUrl = url.origin + url.pathname.replace(/\/+$/, '');
    this.token = options.token;
    this.timeoutMs = options.timeoutMs ?? 15_000;
    this.waitTimeoutMs = options.waitTimeoutMs ?? 300_000;
    this.retries = options.retries ?? 2;
    this.backoff = { initialMs: options.backoff?.initialMs ?? 250, maxMs: options.backoff?.maxMs ?? 30_000 };
  }

  /** Checks that the server speaks our protocol, once (again after a failure). */
  health(): Promise<Health> {
    if (!this.compatible) {
      this.compatible = this.fetchHealth();
      this.compatible.catch(() => {
        this.compatible = null;
      });
    }
    return this.compatible;
  }

  /** The bearer token for a URL of this server (same origin, under its base path); nothing for any other URL, so a token never leaks to a third party. */
  async credentialsFor(url: string): Promise<Record<string, string>> {
    let target: URL;
    try {
      target = new URL(url);
    } catch {
      return {};
    }
    const base = new URL(this.baseUrl);
    const under = base.pathname === '/' || target.pathname === base.pathname || target.pathname.startsWith(`${base.pathname}/`);
    return target.origin === base.origin && under ? { authorization: `Bearer ${await bearerOf(this.token)}` } : {};
  }

  /** Who the token (or the signed-in person) is on this server; UNAUTHORIZED when it is refused. */
  async whoami(): Promise<Identity> {
    await this.health();
    return this.request('GET', serverRoutes.whoami, undefined, {}, this.timeoutMs, whoamiSchema);
  }

  /** How the server lets people in (GET /api/v1/auth, no token): API tokens, and OpenID Connect when it offers it. */
  async authMethods(): Promise<AuthDiscovery> {
    await this.health();
    return this.request('GET', serverRoutes.auth, undefined, {}, this.timeoutMs, authDiscoverySchema, false);
  }

  /** The server-only routes (tokens), with the same transport, errors and answer parsing as the contract's. */
  async serverRequest<T>(verb: 'GET' | 'POST' | 'DELETE', path: string, body: Record<string, unknown> | undefined, schema: z.ZodType<T>): Promise<T> {
    await this.health();
    return this.request(verb, path, body, {}, this.timeoutMs, schema);
  }

  async call<M extends BackendMethod>(method: M, input: MethodInput<M>, ctx: CallContext = {}): Promise<MethodOutput<M>> {
    const spec = backendMethods[method];
    const route = routeOf.get(method);
    if (!spec || !route) throw new RewindError('NOT_FOUND', `Unknown method "${String(method)}".`, 'Update Rewind; this backend does not know that operation.');
    // Refused here, before the network, with the same error the server would give.
    parseInput(spec.input, input, method);
    await this.health();
    // The console and the CLI start runs for an operator: manual, where the server assumes a plain REST client (api).
    const sent = method === 'runs:start' && !('trigger' in (input as object)) ? { ...(input as Record<string, unknown>), trigger: 'manual' } : (input as Record<string, unknown>);
    const { path, query, body, expectedRevision } = splitInput(route, sent);
    const headers: Record<string, string> = {};
    if (expectedRevision !== undefined) headers['if-match'] = `"${expectedRevision}"`;
    if (spec.mutates) headers['idempotency-key'] = ctx.idempotencyKey ?? randomUUID();
    const waits = (typeof body?.wait === 'boolean' && body.wait) || method === 'runs:replay';
    const qs = query.toString();
    return this.request(route.verb, `${path}${qs ? `?${qs}` : ''}`, body, headers, waits ? this.waitTimeoutMs : this.timeoutMs, spec.output as z.ZodType) as Promise<MethodOutput<M>>;
  }

  subscribe(options: SubscribeOptions): () => void {
    const wsUrl = `${this.baseUrl.replace(/^http/, 'ws')}${serverRoutes.stream}`;
    let heartbeatTimeoutMs = 45_000;
    const subscription = new RemoteSubscription(
      {
        url: wsUrl,
        bearer: (refresh) => bearerOf(this.token, refresh),
        get heartbeatTimeoutMs() {
          return heartbeatTimeoutMs;
        },
        handshakeTimeoutMs: this.timeoutMs,
        backoff: this.backoff,
        ready: async () => {
          const health = await this.health();
          // Two missed pings and a second of slack before a peer counts as dead.
          heartbeatTimeoutMs = health.heartbeat_ms * 2 + 1000;
        },
      },
      {
        ...options,
        onState: (state, detail) => {
          if (state === 'closed' || state === 'refused') this.subscriptions.delete(subscription);
          options.onState?.(state, detail);
        },
      },
    );
    this.subscriptions.add(subscription);
    return () => subscription.close();
  }

  async close(): Promise<void> {
    this.closing.abort();
    for (const s of [...this.subscriptions]) s.close();
  }

  private async fetchHealth(): Promise<Health> {
    // A degraded server answers 503 with its health: still ours to talk to (its console shows why it is degraded).
    const health = await this.request('GET', serverRoutes.health, undefined, {}, this.timeoutMs, healthSchema, false, 503);
    if (health.protocol !== PROTOCOL_VERSION) {
      throw protocolError(this.baseUrl, `speaks Rewind protocol ${health.protocol} (server ${health.version}); this console speaks protocol ${PROTOCOL_VERSION}.`, {
        server_protocol: health.protocol,
        client_protocol: PROTOCOL_VERSION,
      });
    }
    return health;
  }

  private async request<T>(
    verb: string,
    pathAndQuery: string,
    body: Record<string, unknown> | undefined,
    headers: Record<string, string>,
    timeoutMs: number,
    schema: z.ZodType<T>,
    authenticated = true,
    alsoOk?: number,
  ): Promise<T> {
    const url = `${this.baseUrl}${pathAndQuery}`;
    let refreshed = false;
    for (let attempt = 0; ; attempt++) {
      try {
        const bearer = authenticated ? await bearerOf(this.token, refreshed) : null;
        return await this.once(verb, url, body, headers, timeoutMs, schema, bearer, alsoOk);
      } catch (err) {
        // A JWT the server found expired (clocks differ, or it lapsed in flight): one fresh one, one more try. A 401 applied nothing.
        if (err instanceof RewindError && err.code === 'UNAUTHORIZED' && err.details?.reason === 'expired' && canRefresh(this.token) && !refreshed) {
          refreshed = true;
          continue;
        }
        if (!(err instanceof RewindError) || !retryable(err) || attempt >= this.retries || this.closing.signal.aborted) throw err;
        await new Promise((resolve) => setTimeout(resolve, backoffDelay(attempt, { initialMs: 100, maxMs: 2000 })));
      }
    }
  }

  private async once<T>(
    verb: string,
    url: string,
    body: Record<string, unknown> | undefined,
    headers: Record<string, string>,
    timeoutMs: number,
    schema: z.ZodType<T>,
    bearer: string | null,
    alsoOk?: number,
  ): Promise<T> {
    let res: Response;
    let text: string;
    try {
      res = await fetch(url, {
        method: verb,
        headers: {
          accept: 'application/json',
          ...(bearer === null ? {} : { authorization: `Bearer ${bearer}` }),
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          ...headers,
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.any([AbortSignal.timeout(timeoutMs), this.closing.signal]),
      });
      text = await res.text();
    } catch (err) {
      throw transportError(err, this.baseUrl, timeoutMs);
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw protocolError(this.baseUrl, `answered HTTP ${res.status} with something other than JSON.`, { status: res.status });
    }
    if (!res.ok && res.status !== alsoOk) throw answerError(this.baseUrl, res.status, json);
    const parsed = schema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw protocolError(this.baseUrl, `answered in a shape this console does not understand (${issue ? `${issue.path.join('.')}: ${issue.message}` : 'invalid'}).`, {
        status: res.status,
      });
    }
    return parsed.data;
  }
}

/** Connects to a workflow server: checks its protocol and the token before anything else is asked of it. */
export async function openRemote(options: RemoteOptions): Promise<RemoteBackend> {
  const backend = new RemoteBackend(options);
  await backend.whoami();
  return backend;
}
