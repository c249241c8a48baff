import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { WebSocketServer } from 'ws';
import type { z } from 'zod';
import {
  type ActionResult,
  type BackendMethod,
  type RewindErrorData,
  isReviewRequested,
  reviewedMethods,
  type Role,
  backendMethods,
  httpStatusOf,
} from '../../preload/contract/index.js';
import type { Backend } from '../backends/backend.js';
import type { Refusal } from '../backends/refusal-audit.js';
import { assertNoNul } from '../backends/nul-text.js';
import { RewindError, toErrorData } from '../engine/errors.js';
import { MAX_DEMO_BATCH, inspectBatch } from '../engine/demo/inspection.js';
import { maskerFor } from '../engine/executor/masking.js';
import { type SecretSource, envSecrets } from '../engine/executor/secrets.js';
import type { StoreKind } from '../engine/store/port.js';
import { EventStream } from './event-stream.js';
import { type Headers, bearerToken, errorHeaders, readJsonBody, sendError, sendJson, sendText, splitUrl, writeRawError } from './http-io.js';
import { type LogFormat, createLogger, redactUrl } from './logger.js';
import { ServerMetrics } from './metrics.js';
import { buildOpenApiDocument } from './openapi.js';
import { PROTOCOL_VERSION, type Health, roleAllows, serverRoutes, tokenCreateInputSchema } from '../protocol/wire.js';
import { type CompiledRoute, buildInput, decodeSegment, matchRoute, parseIfMatch } from '../protocol/routes.js';
import type { Identity, TokenStore } from './tokens.js';
import { type OidcVerifier, looksLikeJwt } from './auth/oidc-verifier.js';
import { authAnswer } from './auth/auth-route.js';

export interface ServerOptions {
  backend: Backend;
  tokens: TokenStore;
  /** The event log's head at start: the stream listens for what follows. */
  latestSeq: () => Promise<number>;
  schemaVersion: number;
  /** 127.0.0.1 unless told otherwise: a workflow server is not exposed by accident. */
  host?: string;
  /** 0 picks a free port (tests). */
  port?: number;
  tls?: { cert: string | Buffer; key: string | Buffer };
  heartbeatMs?: number;
  maxBodyBytes?: number;
  /** Incoming WebSocket messages are capped far below ws's 100 MiB default. */
  maxWsPayloadBytes?: number;
  maxBufferedBytes?: number;
  ringSize?: number;
  /** The ring's bound in bytes as well (events carry run params of up to ~1 MB). */
  ringBytes?: number;
  /** Per-token request budget; off unless set. */
  rateLimit?: { perSecond: number; burst: number };
  /** What this server serves (production, staging…), shown in /health and whoami; null when unset. */
  environment?: string | null;
  /** Where refused mutations go (the audit log); none: not recorded. */
  onRefused?: (refusal: Refusal) => Promise<void>;
  /** Where log lines go (stdout by default): one per request, per appended event, per unexpected failure. */
  log?: (line: string) => void;
  /** The secrets its engine's real nodes read (REWIND_SECRET_NAME by default): masked in every log line. */
  secrets?: SecretSource;
  /** A ready logger instead (then `log`, `logLevel`, `logFormat` and `secrets` are not used). */
  logger?: Logger;
  /** `info` unless REWIND_LOG_LEVEL says otherwise. */
  logLevel?: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  logFormat?: LogFormat;
  /**
   * The store behind the server and this replica's id, for /health and /metrics (see open-store.ts);
   * `probe` tries the database (a read and a write) while the server is degraded.
   */
  replica?: { id: string; store: StoreKind; healthy: () => boolean; probe?: () => Promise<void> };
  /** How often a degraded server probes its database (default 3000 ms). */
  healthProbeMs?: number;
  /** Started with --demo: serves the demo inspection station at /demo/inspect (404 otherwise). */
  demo?: boolean;
  /** Started with --oidc-issuer: people sign in with the provider's JWTs, beside API tokens. */
  oidc?: OidcVerifier;
}

export interface RunningServer {
  url: string;
  /** Where this process reaches itself: `url`, with a loopback address when it is bound to every address. */
  localUrl: string;
  /** `localUrl`'s HOST:PORT. */
  localHost: string;
  port: number;
  metrics: ServerMetrics;
  stream: EventStream;
  /** Stops taking requests, lets those in flight finish, closes sockets with 1001. The backend stays open (its owner closes it). */
  close(): Promise<void>;
}

const packageVersion = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
const knownVerbs = new Set(['GET', 'POST', 'PUT', 'DELETE', 'HEAD', 'OPTIONS', 'PATCH']);

const unauthorized = (message: string, oidc: boolean): RewindError =>
  new RewindError(
    'UNAUTHORIZED',
    message,
    `Send Authorization: Bearer <token>. An admin issues tokens (POST /api/v1/tokens, or \`rewind tokens create\`)${oidc ? '; people sign in with `rewind login --server URL` or the console (GET /api/v1/auth says how)' : ''}.`,
  );

function forbidden(identity: Identity, needed: Role, what: string, oidc: OidcVerifier | undefined): RewindError {
  const who = identity.via === 'oidc' ? identity.name : `token "${identity.name}"`;
  const hint =
    identity.via === 'oidc' && oidc
      ? `Ask your identity provider's admin for one of the groups that give ${needed} here: ${oidc.groupsGiving(needed).join(', ')}.`
      : `Ask an admin for a token with the ${needed} role.`;
  return new RewindError('FORBIDDEN', `${what} needs the ${needed} role; ${who} is ${identity.role}.`, hint, { needed_role: needed, role: identity.role });
}

const idempotencyKeyPattern = /^[\x21-\x7e]{1,200}$/;
/** A caller's X-Request-Id is kept when it is a plain token; anything else gets a fresh id. */
const requestIdPattern = /^[A-Za-z0-9._:@/+=-]{1,128}$/;
/** A refused request body up to this size is read and dropped so the connection can be kept alive. */
const drainLimitBytes = 64 * 1024;

/** What a request's log line says; filled in as the request is understood. */
interface RequestLabel {
  route: string;
  actor?: string;
  errorCode?: string;
}

function etagOf(value: unknown): Headers {
  if (typeof value === 'object' && value !== null && 'revision' in value && Number.isInteger(value.revision)) return { etag: `"${String(value.revision)}"` };
  return {};
}

/** An as-of read names the seq it answered as of in a header too, so a client can tell without parsing the body. */
function asOfHeader(value: unknown): Headers {
  if (typeof value === 'object' && value !== null && 'as_of_seq' in value && Number.isInteger(value.as_of_seq)) return { 'x-rewind-as-of': String(value.as_of_seq) };
  return {};
}

function validationError(method: BackendMethod, error: z.ZodError): RewindError {
  const issues = error.issues.map((i) => ({ path: i.path.map(String).join('.'), message: i.message }));
  const first = issues[0];
  const where = first && first.path !== '' ? `${first.path}: ` : '';
  return new RewindError('VALIDATION_FAILED', `${where}${first?.message ?? 'invalid input'}`, `Check the request against ${method}: ${backendMethods[method].summary}`, { issues });
}

class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  constructor(private readonly limit: { perSecond: number; burst: number }) {}
  take(key: string): boolean {
    const now = performance.now();
    const bucket = this.buckets.get(key) ?? { tokens: this.limit.burst, at: now };
    bucket.tokens = Math.min(this.limit.burst, bucket.tokens + ((now - bucket.at) / 1000) * this.limit.perSecond);
    bucket.at = now;
    this.buckets.set(key, bucket);
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }
}

/**
 * The workflow server: the contract's routes over a Backend, bearer tokens with roles, the event
 * stream and metrics. A generic adapter — everything a route does is declared in the contract.
 */
export async function createServer(options: ServerOptions): Promise<RunningServer> {
  const { backend, tokens } = options;
  const envLevel = process.env.REWIND_LOG_LEVEL as ServerOptions['logLevel'] | undefined;
  const secrets = options.secrets ?? envSecrets();
  const logger =
    options.logger ??
    createLogger({
      level: options.logLevel ?? envLevel ?? 'info',
      format: options.logFormat ?? 'json',
      // A secret set in this process's environment while it runs is masked from the next second on.
      mask: (line) => maskerFor(secrets, { maxAgeMs: 1000 }).text(line),
      ...(options.log ? { write: options.log } : {}),
    });
  const logError = (what: string, err: unknown) => logger.error({ err: err instanceof Error ? { message: err.message, stack: err.stack } : String(err) }, what);
  const heartbeatMs = options.heartbeatMs ?? 15_000;
  const maxBodyBytes = options.maxBodyBytes ?? 1024 * 1024;
  const limiter = options.rateLimit ? new RateLimiter(options.rateLimit) : null;
  let closing = false;

  const startSeq = await options.latestSeq();
  const stream = new EventStream({
    backend,
    head: startSeq,
    heartbeatMs,
    maxBufferedBytes: options.maxBufferedBytes ?? 4 * 1024 * 1024,
    ringSize: options.ringSize ?? 4096,
    ringBytes: options.ringBytes ?? 16 * 1024 * 1024,
    pageSize: 500,
    isTokenLive: (id) => tokens.isLive(id),
    onSlowConsumer: () => metrics.slowConsumers.inc(),
    onError: (err) => logError('event stream failed', err),
  });
  /** Set when the database refused a request; cleared by the next write that succeeds (an appended event, or the probe's). */
  let storeFault: RewindErrorData | null = null;
  // While degraded, the server tries the database itself: a replica that saw the outage would
  // otherwise answer 503 until some client happened to write through it, and a load balancer that
  // routes around it never sends that write. One probe at a time; nothing is done while healthy.
  const probe = options.replica?.probe;
  let probing = false;
  const prober = probe
    ? setInterval(() => {
        if (probing || (storeFault === null && options.replica!.healthy())) return;
        probing = true;
        probe()
          .then(() => (storeFault = null))
          .catch(() => undefined)
          .finally(() => (probing = false));
      }, options.healthProbeMs ?? 3000)
    : null;
  prober?.unref();
  // One line per engine action, from the engine's own event feed (the server layer listens; the engine is not changed).
  const stopEventLog = backend.subscribe({
    after: startSeq,
    onEvent: (event) => {
      storeFault = null;
      logger.info({ event: event.type, seq: event.seq, workflow_id: event.workflow_id, run_id: event.run_id, actor: event.actor }, 'event appended');
    },
  });
  const metrics = new ServerMetrics({ backend, openSockets: () => stream.size, headSeq: () => stream.headSeq, head: () => backend.call('events:head', {}) });
  if (options.replica) metrics.registry.setDefaultLabels({ replica: options.replica.id });

  // Kept from the last head read, so a degraded answer (the database away) still names the server.
  let serverId: string | undefined;
  const health = async (): Promise<Health> => {
    const base = {
      ...(options.replica ? { store: options.replica.store, replica: options.replica.id } : {}),
      name: 'rewind' as const,
      version: packageVersion,
      protocol: PROTOCOL_VERSION,
      schema_version: options.schemaVersion,
      heartbeat_ms: heartbeatMs,
      environment: options.environment ?? null,
    };
    let found;
    try {
      found = await backend.call('events:head', {});
    } catch (err) {
      // The database away: the head cannot be read, and that is the news.
      return { ...base, ...(serverId ? { server_id: serverId } : {}), status: 'degraded', reason: toErrorData(err).message };
    }
    const { chain, server_id, ...head } = found;
    serverId = server_id ?? serverId;
    const unreachable = options.replica && !options.replica.healthy() ? 'The database is unreachable; this replica reconnects by itself.' : null;
    const reason = storeFault?.message ?? unreachable ?? (chain.ok ? null : `The event log's hash chain is broken at event ${chain.first_broken_seq ?? '?'}: ${chain.reason ?? ''}`);
    return { ...base, ...(serverId ? { server_id: serverId } : {}), status: reason === null ? 'ok' : 'degraded', ...(reason === null ? {} : { reason }), head, chain };
  };
  let openApiDocument: Record<string, unknown> | null = null;

  async function authenticate(header: string | undefined): Promise<Identity> {
    const oidc = options.oidc !== undefined;
    const token = bearerToken(header);
    if (token === undefined) throw unauthorized(header ? 'The Authorization header is not "Bearer <token>".' : 'This route needs a bearer token.', oidc);
    // A JWT is told from an API token by its shape, so a token's check costs what it did before sign-in existed.
    const identity: Identity | null = options.oidc && looksLikeJwt(token) ? { ...(await options.oidc.verify(token)), via: 'oidc' } : await tokens.verify(token);
    if (!identity) throw unauthorized('The token is not recognised, or it was revoked.', oidc);
    if (limiter && !limiter.take(identity.id)) {
      throw new RewindError('RATE_LIMITED', `Token "${identity.name}" is over its request budget.`, 'Slow down and retry after a second.');
    }
    return identity;
  }

  async function serveToken(req: IncomingMessage, res: ServerResponse, identity: Identity, pathname: string): Promise<number> {
    if (!roleAllows(identity.role, 'admin')) throw forbidden(identity, 'admin', 'Managing tokens', options.oidc);
    const body = await readJsonBody(req, maxBodyBytes);
    if (pathname === serverRoutes.tokens && req.method === 'GET') {
      sendJson(res, 200, { tokens: await tokens.list() });
      return 200;
    }
    if (pathname === serverRoutes.tokens && req.method === 'POST') {
      const parsed = tokenCreateInputSchema.safeParse(body ?? {});
      if (!parsed.success) {
        throw new RewindError('VALIDATION_FAILED', parsed.error.issues[0]?.message ?? 'invalid input', 'Send {"name": "alice", "role": "viewer" | "operator" | "admin"}.');
      }
      const { info, token } = await tokens.issue({ ...parsed.data, createdBy: identity.name });
      sendJson(res, 201, { ...info, token });
      return 201;
    }
    const id = pathname.slice(serverRoutes.tokens.length + 1);
    if (req.method === 'DELETE' && id !== '' && !id.includes('/')) {
      const decoded = decodeSegment(id);
      assertNoNul({ id: decoded }, 'The URL');
      const info = await tokens.revoke(decoded, identity.name);
      stream.revoke(info.id);
      sendJson(res, 200, info);
      return 200;
    }
    throw new RewindError('NOT_FOUND', `No route ${req.method ?? ''} ${pathname}.`, 'Tokens: GET and POST /api/v1/tokens, DELETE /api/v1/tokens/{id}.');
  }

  /** Answering a review takes the role its action needs (publishing needs admin), whatever role the answer route asks. */
  async function refuseReviewer(identity: Identity, method: 'reviews:approve' | 'reviews:decline', reviewId: string): Promise<void> {
    const review = await backend.call('reviews:get', { review_id: reviewId });
    const needed = backendMethods[reviewedMethods[review.action]].role;
    if (roleAllows(identity.role, needed)) return;
    const err = forbidden(identity, needed, `Answering a review of a ${review.action}`, options.oidc);
    await options.onRefused?.({ method, input: { review_id: reviewId }, actor: identity.name, error: err });
    throw err;
  }

  async function serveMethod(req: IncomingMessage, res: ServerResponse, identity: Identity, route: CompiledRoute, params: Record<string, string>, query: URLSearchParams): Promise<number> {
    const spec = backendMethods[route.method];
    // Before the role check: its refusal is audited with the path's values.
    assertNoNul({ ...params, ...Object.fromEntries(query) }, 'The URL');
    if (!roleAllows(identity.role, spec.role)) {
      const err = forbidden(identity, spec.role, route.method, options.oidc);
      await options.onRefused?.({ method: route.method, input: params, actor: identity.name, error: err });
      throw err;
    }
    const ifMatch = parseIfMatch(req.headers['if-match']);
    let idempotencyKey: string | undefined;
    const keyHeader = req.headers['idempotency-key'];
    if (spec.mutates && keyHeader !== undefined) {
      if (typeof keyHeader !== 'string' || !idempotencyKeyPattern.test(keyHeader)) {
        throw new RewindError('MALFORMED_REQUEST', 'Idempotency-Key must be 1–200 visible ASCII characters.', 'Send a fresh UUID per logical request, and the same one on its retries.');
      }
      // Scoped to the token, so one client's key can neither collide with nor read another's answer.
      idempotencyKey = `${identity.id}:${keyHeader}`;
    }
    const body = await readJsonBody(req, maxBodyBytes);
    const raw = buildInput(route, { params, query, body, ifMatch });
    // A run started over plain REST is an api run; Rewind's own clients (console, CLI) say manual.
    if (route.method === 'runs:start' && !('trigger' in raw)) raw.trigger = 'api';
    const parsed = (spec.input as z.ZodType).safeParse(raw);
    if (!parsed.success) throw validationError(route.method, parsed.error);
    if (route.method === 'reviews:approve' || route.method === 'reviews:decline') await refuseReviewer(identity, route.method, (parsed.data as { review_id: string }).review_id);
    const ctx = idempotencyKey === undefined ? { actor: identity.name } : { actor: identity.name, idempotencyKey };
    let output: unknown;
    try {
      output = await backend.call(route.method, parsed.data as never, ctx);
    } catch (err) {
      if (route.method === 'versions:rollback') metrics.observeRollback(false);
      throw err;
    }
    // A request sent for review is accepted, not done: 202, so a client knows it waits for another person.
    const waiting = 'reviewable' in spec.http && isReviewRequested(output as ActionResult);
    if (route.method === 'versions:rollback' && !waiting) metrics.observeRollback(true);
    if (spec.mutates) storeFault = null;
    const status = waiting ? 202 : (spec.http.status ?? 200);
    // A past revision is no base for a write: an as-of answer carries its seq, not an ETag.
    const asOf = asOfHeader(output);
    sendJson(res, status, output, 'x-rewind-as-of' in asOf ? asOf : etagOf(output));
    return status;
  }

  /** `label.route` is set as soon as the route is known, so failures count against their route too. */
  async function serve(req: IncomingMessage, res: ServerResponse, label: RequestLabel): Promise<number> {
    const { pathname, query } = splitUrl(req.url);
    if (pathname === serverRoutes.health && req.method === 'GET') {
      label.route = serverRoutes.health;
      const answer = await health();
      // Degraded is not healthy: a load balancer or monitor sees 503 and the reason (a broken chain even when
      // the server was told to serve it); clients get the typed error of a refused write.
      if (storeFault) {
        sendJson(res, 503, { ...answer, error: storeFault }, errorHeaders(storeFault));
        return 503;
      }
      // Degraded is not 200, so load balancers route around this replica.
      const status = answer.status === 'ok' ? 200 : 503;
      sendJson(res, status, answer, status === 503 ? { 'retry-after': '1' } : {});
      return status;
    }
    if (pathname === serverRoutes.openapi && req.method === 'GET') {
      // No token: the document describes the API, not any data (and client generators fetch it bare).
      label.route = serverRoutes.openapi;
      openApiDocument ??= buildOpenApiDocument(packageVersion);
      sendJson(res, 200, openApiDocument);
      return 200;
    }
    if (pathname === serverRoutes.auth && req.method === 'GET') {
      // No token: this is how a client learns how to get one.
      label.route = serverRoutes.auth;
      sendJson(res, 200, await authAnswer(options.oidc));
      return 200;
    }
    if (pathname === serverRoutes.demoInspect) {
      // Before the token check, so a server without --demo answers 404 here, not 401.
      if (!options.demo) throw new RewindError('NOT_FOUND', `No route ${req.method ?? ''} ${pathname}.`, 'The inspection station is served only by a server started with --demo.');
      label.route = serverRoutes.demoInspect;
      return serveInspection(req, res, query);
    }
    if (closing) throw new RewindError('BUSY', 'The server is shutting down.', 'Retry in a moment, against this server once restarted or another one.');
    const identity = await authenticate(req.headers.authorization);
    label.actor = identity.name;
    if (pathname === serverRoutes.metrics && req.method === 'GET') {
      label.route = serverRoutes.metrics;
      sendText(res, 200, metrics.registry.contentType, await metrics.registry.metrics());
      return 200;
    }
    if (pathname === serverRoutes.whoami && req.method === 'GET') {
      label.route = serverRoutes.whoami;
      sendJson(res, 200, {
        name: identity.name,
        role: identity.role,
        environment: options.environment ?? null,
        via: identity.via,
        expires_at: identity.expiresAt === null ? null : new Date(identity.expiresAt).toISOString(),
      });
      return 200;
    }
    if (pathname === serverRoutes.tokens || pathname.startsWith(`${serverRoutes.tokens}/`)) {
      label.route = serverRoutes.tokens;
      return serveToken(req, res, identity, pathname);
    }
    const match = matchRoute(req.method ?? '', pathname);
    if (match.kind === 'none') throw new RewindError('NOT_FOUND', `No route ${req.method ?? ''} ${pathname.slice(0, 200)}.`, 'The routes are under /api/v1 (see DESIGN.md, "Remote protocol").');
    if (match.kind === 'wrong-verb') {
      const allowed = match.allowed.join(', ');
      throw new RewindError('NOT_FOUND', `${pathname.slice(0, 200)} does not answer ${req.method ?? ''}.`, `Use ${allowed}.`, { allow: match.allowed });
    }
    label.route = match.route.template;
    return serveMethod(req, res, identity, match.route, match.params, query);
  }

  /** Store failures count as degraded health until a write succeeds; anything unexpected is logged with its stack. */
  function classifyAndNote(err: unknown): RewindErrorData {
    const data = toErrorData(err);
    if (data.code === 'STORE_READ_ONLY' || data.code === 'STORE_UNAVAILABLE') storeFault = data;
    if (data.code === 'INTERNAL') logError('request failed', err);
    return data;
  }

  function onFailure(req: IncomingMessage, res: ServerResponse, err: unknown, label: RequestLabel): number {
    const data = classifyAndNote(err);
    label.errorCode = data.code;
    const headers = errorResponseHeaders(data);
    // A refusal before the body was read: a small body is drained (Node reads the rest once the answer
    // ends) so a keep-alive client's next request finds the socket ready; a large or unsized one closes it.
    if (!req.complete) {
      const declared = Number(req.headers['content-length'] ?? Number.NaN);
      if (!(declared <= drainLimitBytes)) headers.connection = 'close';
    }
    return sendError(res, data, headers);
  }

  function logRequest(req: IncomingMessage, requestId: string, label: RequestLabel, status: number, ms: number): void {
    const line = {
      req_id: requestId,
      actor: label.actor ?? null,
      method: req.method,
      route: label.route,
      url: redactUrl((req.url ?? '/').slice(0, 500)),
      status,
      duration_ms: Math.round(ms * 1000) / 1000,
      ...(label.errorCode ? { error_code: label.errorCode } : {}),
    };
    if (status >= 500) logger.error(line, 'request');
    else logger.info(line, 'request');
  }

  const requestIdOf = (req: IncomingMessage): string => {
    const given = req.headers['x-request-id'];
    return typeof given === 'string' && requestIdPattern.test(given) ? given : randomUUID();
  };

  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    const started = performance.now();
    const requestId = requestIdOf(req);
    res.setHeader('x-request-id', requestId);
    if (closing) res.setHeader('connection', 'close');
    const label: RequestLabel = { route: 'unmatched' };
    void serve(req, res, label)
      .catch((err: unknown) => onFailure(req, res, err, label))
      .then((status) => {
        const verb = knownVerbs.has(req.method ?? '') ? (req.method ?? 'OTHER') : 'OTHER';
        const ms = performance.now() - started;
        metrics.observeRequest(label.route, verb, status, ms / 1000);
        logRequest(req, requestId, label, status, ms);
        // Closing anyway (a large refused body): stop reading it rather than buffer what nobody wants.
        if (!req.complete && res.getHeader('connection') === 'close') res.once('finish', () => req.destroy());
      });
  };

  const server = options.tls ? https.createServer({ cert: options.tls.cert, key: options.tls.key }, handler) : http.createServer(handler);
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    const tooLarge = err.code === 'HPE_HEADER_OVERFLOW';
    writeRawError(
      socket,
      tooLarge
        ? { code: 'PAYLOAD_TOO_LARGE', message: 'The request headers are too large.', hint: 'Send smaller headers.' }
        : { code: 'MALFORMED_REQUEST', message: 'The request is not valid HTTP.', hint: 'Send a well-formed HTTP/1.1 request.' },
    );
  });

  const wss = new WebSocketServer({ noServer: true, maxPayload: options.maxWsPayloadBytes ?? 64 * 1024, perMessageDeflate: false });
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    void upgrade(req, socket, head);
  });

  async function upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const started = performance.now();
    const requestId = requestIdOf(req);
    const label: RequestLabel = { route: serverRoutes.stream };
    try {
      const { pathname, query } = splitUrl(req.url);
      if (pathname !== serverRoutes.stream) throw new RewindError('NOT_FOUND', `No WebSocket at ${pathname.slice(0, 200)}.`, `The event stream is at ${serverRoutes.stream}?after=SEQ.`);
      if (closing) throw new RewindError('BUSY', 'The server is shutting down.', 'Reconnect in a moment.');
      const queryToken = query.get('token');
      const identity = await authenticate(req.headers.authorization ?? (queryToken === null ? undefined : `Bearer ${queryToken}`));
      label.actor = identity.name;
      const needed = backendMethods['events:list'].role;
      if (!roleAllows(identity.role, needed)) throw forbidden(identity, needed, 'The event stream', options.oidc);
      for (const key of query.keys()) {
        if (key !== 'after' && key !== 'token') throw new RewindError('MALFORMED_REQUEST', `Unknown stream parameter "${key}".`, 'The stream takes ?after=SEQ (and ?token= for browsers).');
      }
      const afterRaw = query.get('after');
      if (afterRaw !== null && !/^\d{1,15}$/.test(afterRaw)) {
        throw new RewindError('MALFORMED_REQUEST', 'after must be a non-negative integer seq.', 'Reconnect with ?after=<the last seq you received>, or 0 for the whole log.');
      }
      const after = afterRaw === null ? undefined : Number(afterRaw);
      wss.handleUpgrade(req, socket, head, (ws) => stream.add(ws, identity, after));
      logRequest(req, requestId, label, 101, performance.now() - started);
    } catch (err) {
      const data = classifyAndNote(err);
      label.errorCode = data.code;
      writeRawError(socket, data);
      logRequest(req, requestId, label, httpStatusOf(data.code), performance.now() - started);
    }
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const scheme = options.tls ? 'https' : 'http';
  const hostForUrl = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `${scheme}://${hostForUrl}:${address.port}`;
  const localHost = address.address === '0.0.0.0' ? '127.0.0.1' : address.address === '::' ? '[::1]' : hostForUrl;
  const localUrl = `${scheme}://${localHost}:${address.port}`;

  async function close(): Promise<void> {
    if (closing) return;
    closing = true;
    if (prober) clearInterval(prober);
    stopEventLog();
    const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    await stream.close();
    metrics.close();
    wss.close();
    const deadline = setTimeout(() => server.closeAllConnections(), 10_000);
    await stopped;
    clearTimeout(deadline);
  }

  return { url, localUrl, localHost: `${localHost}:${address.port}`, port: address.port, metrics, stream, close };
}

/** The demo station's answer for `?batch=N` (GET, a whole batch number). */
function serveInspection(req: IncomingMessage, res: ServerResponse, query: URLSearchParams): number {
  if (req.method !== 'GET') throw new RewindError('NOT_FOUND', `${serverRoutes.demoInspect} does not answer ${req.method ?? ''}.`, 'Use GET.', { allow: ['GET'] });
  const raw = query.get('batch');
  const batch = raw !== null && /^[1-9][0-9]{0,8}$/.test(raw) ? Number(raw) : NaN;
  if (!(batch <= MAX_DEMO_BATCH)) {
    throw new RewindError('VALIDATION_FAILED', `batch must be a whole number from 1 to ${MAX_DEMO_BATCH}; got ${JSON.stringify(raw?.slice(0, 40) ?? null)}.`, `Ask e.g. GET ${serverRoutes.demoInspect}?batch=7.`);
  }
  sendJson(res, 200, inspectBatch(batch));
  return 200;
}

/** A stale write answers 412 with the current revision in ETag and the current workflow in details. */
function errorResponseHeaders(data: RewindErrorData): Headers {
  if (data.code !== 'STALE_REVISION' || !data.details) return {};
  const current = data.details.current_revision;
  return typeof current === 'number' ? { etag: `"${current}"` } : {};
}
