import { z } from 'zod';
import { chainKnownSchema, type RewindEvent, rewindErrorSchema, rewindEventSchema, type Role } from '../../preload/contract/index.js';

/*
 * The wire protocol between a workflow server and its clients, beyond what the contract's routes
 * already say: the health answer, the WebSocket message shape, the close codes and the token API.
 * The server and the remote backend both import it, so the two cannot drift apart.
 */

/**
 * Bumped only on an incompatible change of the routes, shapes or stream. A remote backend refuses a
 * server whose protocol differs from its own (PROTOCOL_MISMATCH) rather than misreading it.
 */
export const PROTOCOL_VERSION = 1;

export const healthSchema = z.object({
  /** degraded (answered with 503): the database is unreachable or refuses writes, or the hash chain is broken; `reason` says why. */
  status: z.enum(['ok', 'degraded']),
  reason: z.string().optional(),
  /** Which store the server runs on, and which replica answered (servers of this stage always send both). */
  store: z.enum(['sqlite', 'postgres']).optional(),
  replica: z.string().optional(),
  name: z.literal('rewind'),
  version: z.string(),
  protocol: z.number().int(),
  schema_version: z.number().int(),
  /** The server's WebSocket ping interval: a client that hears nothing for about twice this long reconnects. */
  heartbeat_ms: z.number().int().positive(),
  /**
   * The log's last link: an outside monitor remembers it and alarms when a later answer no longer
   * extends it. (Optional for clients: servers of the same protocol from before it was added omit it.)
   */
  head: z.object({ seq: z.number().int().nonnegative(), hash: z.string() }).optional(),
  /**
   * The hash chain as the server knows it (verified at start, as events arrive, by whole-chain walks);
   * `ok: false` on a server started with --allow-broken-chain, or one whose background walk found a break.
   */
  chain: chainKnownSchema.optional(),
  /**
   * The server's stable id (its database's: every replica answers the same one). Absent from servers
   * that predate it, and from a degraded answer before the database was ever read.
   */
  server_id: z.string().optional(),
  /** What the server says it serves (`--environment`, e.g. production): the console shows this, not what was typed when adding it. Null when unset. */
  environment: z.string().nullable().default(null),
  /** While degraded because the database refused a write: that refusal, as the write's client got it (cleared by the next write that succeeds). */
  error: rewindErrorSchema.optional(),
});
export type Health = z.infer<typeof healthSchema>;

/**
 * One event as the stream sends it: flat, as the origin clients of seed 000 read it
 * (`data.event_type === 'workflow_rollback'`, `data.to_version`), with the payload's keys lifted to
 * the top level. The payload also travels whole under `payload`, because a lifted key could collide
 * with an envelope field (a payload `seq` never overwrites the envelope's) — so the contract's
 * `RewindEvent` is rebuilt exactly from `payload` and the envelope fields, never from the lifted copies.
 */
export const wireEventSchema = z.looseObject({
  seq: z.number().int().positive(),
  event_type: z.string(),
  workflow_id: z.string().nullable(),
  run_id: z.string().nullable(),
  actor: z.string(),
  timestamp: z.string(),
  prev_hash: z.string(),
  hash: z.string(),
  payload: z.record(z.string(), z.unknown()),
});
export type WireEvent = z.infer<typeof wireEventSchema>;

export function flattenEvent(event: RewindEvent): WireEvent {
  return {
    ...event.payload,
    seq: event.seq,
    event_type: event.type,
    workflow_id: event.workflow_id,
    run_id: event.run_id,
    actor: event.actor,
    timestamp: event.ts,
    prev_hash: event.prev_hash,
    hash: event.hash,
    payload: event.payload,
  };
}

export function unflattenEvent(wire: WireEvent): RewindEvent {
  return rewindEventSchema.parse({
    seq: wire.seq,
    ts: wire.timestamp,
    type: wire.event_type,
    workflow_id: wire.workflow_id,
    run_id: wire.run_id,
    actor: wire.actor,
    payload: wire.payload,
    prev_hash: wire.prev_hash,
    hash: wire.hash,
  });
}

/** WebSocket close codes the stream uses; 4xxx are ours (the application range). */
export const closeCodes = {
  /** Server shutting down: reconnect (to it or its successor) with the last seq. */
  goingAway: 1001,
  /** A message over the size cap (set by `ws` itself). */
  tooBig: 1009,
  /** The server failed while reading the log; reconnecting resumes from the last seq. */
  internal: 1011,
  /** The token was revoked (or never valid): do not reconnect with it. */
  unauthorized: 4001,
  /**
   * The signed-in person's JWT expired while the stream was open: refresh it (the refresh token) and
   * reconnect with the last seq — nothing is missed. Not a refusal: the person may still come in.
   */
  tokenExpired: 4002,
  /** The request itself is wrong (e.g. `after` is not a seq). */
  badRequest: 4400,
  /** The client fell too far behind; reconnect with the last seq to catch up from the log. */
  slowConsumer: 4008,
} as const;

export const roleSchema = z.enum(['viewer', 'operator', 'admin']);
const roleRank: Record<Role, number> = { viewer: 0, operator: 1, admin: 2 };
/** viewer < operator < admin. */
export function roleAllows(held: Role, needed: Role): boolean {
  return roleRank[held] >= roleRank[needed];
}

/** Tokens are server-only (not a backend method): admins issue and revoke them. */
export const tokenInfoSchema = z.object({
  id: z.string(),
  name: z.string(),
  role: roleSchema,
  created_by: z.string(),
  created_at: z.string(),
  revoked_at: z.string().nullable(),
});
export type TokenInfo = z.infer<typeof tokenInfoSchema>;

export const tokenCreateInputSchema = z.strictObject({
  name: z.string().trim().regex(/^[A-Za-z0-9_.@-]{1,64}$/, 'names are 1–64 letters, digits, _ . @ -'),
  role: roleSchema,
});
/** The only time the token itself is shown; the server keeps its hash. */
export const tokenCreatedSchema = tokenInfoSchema.extend({ token: z.string() });
export const tokenListSchema = z.object({ tokens: z.array(tokenInfoSchema) });
/**
 * Who a request is. `name` is the person (a JWT's email, else preferred_username, else sub) or the API
 * token's name — the actor of every event they cause. `via` and `expires_at` (the JWT's `exp`; null for
 * API tokens) default for servers from before sign-in, which knew only tokens.
 */
export const whoamiSchema = z.object({
  name: z.string(),
  role: roleSchema,
  environment: z.string().nullable().default(null),
  via: z.enum(['token', 'oidc']).default('token'),
  expires_at: z.string().nullable().default(null),
});
export type Whoami = z.infer<typeof whoamiSchema>;

/** `--environment` / REWIND_ENVIRONMENT: a short lowercase name such as production, staging, dr. */
export const environmentNameSchema = z.string().regex(/^[a-z][a-z0-9_-]{0,31}$/, 'an environment is 1–32 lowercase letters, digits, _ or -, starting with a letter');

/** Server-only routes, beside the contract's. */
export const serverRoutes = {
  health: '/health',
  metrics: '/metrics',
  stream: '/api/v1/events/stream',
  tokens: '/api/v1/tokens',
  whoami: '/api/v1/whoami',
  /** How to sign in (no token): `{methods, oidc?}`, the contract's authDiscoverySchema. */
  auth: '/api/v1/auth',
  openapi: '/api/v1/openapi.json',
  /** A `--demo` server's inspection station (no token; 404 on any other server). */
  demoInspect: '/demo/inspect',
} as const;
