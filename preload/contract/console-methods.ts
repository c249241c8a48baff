import { z } from 'zod';
import { safeName } from './names.js';
import { rewindEventSchema } from './entities.js';
import { rehearsalPaceSchema, rehearsalSessionSchema, scenarioInfoSchema } from './runbooks.js';
import { authDiscoverySchema } from './sign-in.js';

/*
 * Operations the console itself serves (main process, or browser mode), not a backend:
 * the connection list. Tokens go in, never come back out.
 */

/*
 * connection: disconnected → connecting → connected ⇄ reconnecting
 *                                  ↘ refused (bad token / incompatible server) | unreachable
 */
export const connectionStateSchema = z.enum(['disconnected', 'connecting', 'connected', 'reconnecting', 'refused', 'unreachable']);
export type ConnectionState = z.infer<typeof connectionStateSchema>;

export const connectionInfoSchema = z.object({
  id: z.string(),
  name: z.string(),
  kind: z.enum(['sandbox', 'remote']),
  /** Remote only: the server's base URL. Sandbox: the database file path. */
  url: z.string(),
  /** As typed when the connection was added. `production` asks for a stronger confirmation before destructive actions. */
  environment: z.enum(['sandbox', 'staging', 'production']),
  /**
   * What the server itself says it serves (its `--environment`, from whoami): what the console shows.
   * Null until the server answered, or when it names none; the sandbox says `sandbox`.
   */
  server_environment: z.string().nullable(),
  color: z.string().regex(/^#[0-9a-fA-F]{6}$/),
  state: connectionStateSchema,
  /** Why the connection is refused or unreachable, with what to do. */
  detail: z.string().nullable(),
  /** A token, or a live sign-in (false once signed out, or when a sign-in's refresh failed: sign in again). */
  has_token: z.boolean(),
  /** How this remote connection comes in: an API token, or a person's SSO sign-in (OpenID Connect). The sandbox: token. */
  sign_in: z.enum(['token', 'oidc']).default('token'),
  selected: z.boolean(),
  /** Who this console acts as on the connection (audit-log actor): tells our own changes from other operators'. */
  actor: z.string().nullable(),
  /**
   * What this console may do there (a server's whoami; the local sandbox is admin): the console
   * disables what the role would be refused. Absent or null until the server has said.
   */
  role: z.enum(['viewer', 'operator', 'admin']).nullable().optional(),
  /** For a sandbox file made by a snapshot: where and when it was taken. */
  snapshot: z
    .object({ source_url: z.string(), taken_at: z.string(), complete: z.boolean(), runs: z.number().int(), events: z.number().int() })
    .nullable(),
  /**
   * Why this connection's audit log cannot be trusted, shown as a red banner: its chain was broken when
   * it was opened (CHAIN_BROKEN), or it no longer holds the newest event this console verified (LOG_TRUNCATED).
   */
  alarm: z.object({ code: z.enum(['CHAIN_BROKEN', 'LOG_TRUNCATED']), message: z.string(), hint: z.string() }).nullable(),
  /** The operator silenced this connection's desktop notifications: main pushes no `notifications:event` for it. */
  notifications_muted: z.boolean(),
  /**
   * The server's stable id (its log's head names it): connections with the same one reach the same
   * server, and its events are notified once. Null until read, or from a server that predates it.
   */
  server_id: z.string().nullable().optional(),
});
export type ConnectionInfo = z.infer<typeof connectionInfoSchema>;

const connectionId = z.string().min(1).max(100);

/**
 * A sign-in's outcome: the connection, signed in (desktop) — or, in browser mode, the provider's
 * address the page goes to next (it comes back through the console's /callback, signed in).
 */
export const signInResultSchema = z.object({ connection: connectionInfoSchema.nullable(), redirect: z.string().nullable() });
export type SignInResult = z.infer<typeof signInResultSchema>;

/** What "Reset sandbox to the demo" throws away (the confirmation shows it), and where a copy is kept. */
export const sandboxContentsSchema = z.object({
  path: z.string(),
  workflows: z.number().int(),
  versions: z.number().int(),
  runs: z.number().int(),
  events: z.number().int(),
  runbooks: z.number().int(),
  rehearsals: z.number().int(),
  kept_as: z.string(),
});
export type SandboxContents = z.infer<typeof sandboxContentsSchema>;

/**
 * A `{{secret.NAME}}` name: upper case, as the environment variable REWIND_SECRET_<NAME> it stands
 * for. The engine's templates check names against the same pattern.
 */
export const secretNamePattern = /^[A-Z][A-Z0-9_]{0,63}$/;
const secretName = z.string().regex(secretNamePattern, 'a secret name is upper-case letters, digits and _, starting with a letter (at most 64)');

/**
 * A sandbox connection's execution settings, kept beside the connections file and applied when its
 * sandbox opens (changing them reopens it). Off by default: http and command nodes answer their
 * `sandbox` stand-in and touch nothing.
 */
export const sandboxSettingsSchema = z.object({
  connection_id: z.string(),
  /** http and command nodes run for real. */
  live_execution: z.boolean(),
  /** A live sandbox also runs command nodes (programs on this machine); without it they fail. */
  allow_commands: z.boolean(),
});
export type SandboxSettings = z.infer<typeof sandboxSettingsSchema>;

/**
 * The secrets a sandbox's `{{secret.NAME}}` can read, by name only: values go in through
 * `sandbox:setSecret` and never come back out.
 */
export const sandboxSecretsSchema = z.object({
  connection_id: z.string(),
  /** Kept for this sandbox in the OS keychain (browser mode: in memory for the session); these win. */
  keychain: z.array(z.string()),
  /** REWIND_SECRET_<NAME> variables of the console's own environment, read after the keychain. */
  environment: z.array(z.string()),
  /** False in browser mode: the keychain secrets are gone when the console stops. */
  persistent: z.boolean(),
});
export type SandboxSecrets = z.infer<typeof sandboxSecretsSchema>;

/** What a desktop notification opens when clicked: a run in the inspector, or a workflow's timeline. */
export const notificationTargetSchema = z.object({
  kind: z.enum(['run', 'workflow']),
  id: z.string().min(1).max(200),
});
export type NotificationTarget = z.infer<typeof notificationTargetSchema>;

/**
 * The event types a desktop notification can be about (automatic rollbacks and rollbacks by others,
 * failed or interrupted runs, approvals wanted): the only ones `notifications:event` carries, so a
 * watched connection's busy log does not cross to the renderer. Whether one is news (not this
 * console's own rollback, not a rehearsal's staged failure) the renderer's rules decide.
 */
export const notifiableEventTypes = ['workflow_rollback', 'run_failed', 'run_interrupted', 'approval_requested'] as const;

export const consoleMethods = {
  'connections:list': {
    input: z.strictObject({}),
    output: z.object({ connections: z.array(connectionInfoSchema) }),
    mutates: false,
    summary: 'Every connection with its live state.',
  },
  'connections:add': {
    input: z.strictObject({
      name: safeName(z.string().trim().min(1).max(100)),
      url: z.url({ protocol: /^https?$/ }),
      environment: z.enum(['staging', 'production']).default('staging'),
      color: z.string().regex(/^#[0-9a-fA-F]{6}$/).optional(),
      token: z.string().min(1).max(4096),
    }),
    output: connectionInfoSchema,
    mutates: true,
    summary: 'Add a remote server; its token goes to the OS keychain.',
  },
  'connections:authMethods': {
    input: z.strictObject({ url: z.url({ protocol: /^https?$/ }) }),
    output: authDiscoverySchema,
    mutates: false,
    summary: 'How a server lets people in (its GET /api/v1/auth): API tokens, and SSO when it offers it.',
  },
  'connections:addSso': {
    input: z.strictObject({
      name: safeName(z.string().trim().min(1).max(100)),
      url: z.url({ protocol: /^https?$/ }),
      environment: z.enum(['staging', 'production']).default('staging'),
      color: z.string().regex(/^#[0-9a-fA-F]{6}$/).optional(),
    }),
    output: signInResultSchema,
    mutates: true,
    summary: "Add a remote server by signing in with SSO (the system browser; in browser mode the page goes to the provider and comes back); the refresh token goes to the OS keychain.",
  },
  'connections:signIn': {
    input: z.strictObject({ id: connectionId }),
    output: signInResultSchema,
    mutates: true,
    summary: "Sign in to a remote server with SSO again (after a sign-out or a failed refresh), or instead of its token.",
  },
  'connections:cancelSignIn': {
    input: z.strictObject({}),
    output: z.object({ cancelled: z.boolean() }),
    mutates: true,
    summary: 'Stop waiting for the browser of the sign-in under way.',
  },
  'connections:signOut': {
    input: z.strictObject({ id: connectionId }),
    output: connectionInfoSchema,
    mutates: true,
    summary: "Sign out of a server's SSO: the refresh token is forgotten (and revoked where the provider can); the connection stays.",
  },
  'connections:remove': {
    input: z.strictObject({ id: connectionId }),
    output: z.object({ removed: z.boolean() }),
    mutates: true,
    summary: 'Forget a remote server and its token.',
  },
  'connections:select': {
    input: z.strictObject({ id: connectionId }),
    output: connectionInfoSchema,
    mutates: true,
    summary: 'Make a connection the one the console talks to.',
  },
  'connections:setToken': {
    input: z.strictObject({ id: connectionId, token: z.string().min(1).max(4096) }),
    output: connectionInfoSchema,
    mutates: true,
    summary: "Replace a remote server's token (kept in the OS keychain).",
  },
  'connections:openSandbox': {
    input: z.strictObject({ path: z.string().min(1).max(4096) }),
    output: connectionInfoSchema,
    mutates: true,
    summary: 'Open any sandbox file (a rehearsal copy, a snapshot) as a connection.',
  },
  'snapshots:create': {
    input: z.strictObject({
      /** The remote connection to snapshot. */
      connection_id: connectionId,
      /**
       * The sandbox file to write; an unfinished snapshot of the same server there is resumed. A path
       * ending in `/` (or naming a folder) is a folder: the file is created in it with a generated name.
       */
      path: z.string().min(1).max(4096),
      /** How many of the newest runs to take, with their checkpoints. */
      runs: z.number().int().positive().max(100_000).default(200),
    }),
    output: z.object({
      path: z.string(),
      source_url: z.string(),
      taken_at: z.string(),
      workflows: z.number().int(),
      versions: z.number().int(),
      runs: z.number().int(),
      checkpoints: z.number().int(),
      events: z.number().int(),
      runbooks: z.number().int(),
      rehearsals: z.number().int(),
      resumed: z.boolean(),
    }),
    mutates: true,
    summary: 'Copy a server into a sandbox file for offline inspection; progress is pushed; resumable.',
  },
  'sandbox:contents': {
    input: z.strictObject({}),
    output: sandboxContentsSchema,
    mutates: false,
    summary: 'What the local sandbox holds: what a reset to the demo would throw away.',
  },
  'sandbox:reset': {
    input: z.strictObject({}),
    output: sandboxContentsSchema,
    mutates: true,
    summary: 'Reset the local sandbox to the demo; the old file is kept beside it as <file>.before-reset.',
  },
  'sandbox:getSettings': {
    input: z.strictObject({ connection_id: connectionId }),
    output: sandboxSettingsSchema,
    mutates: false,
    summary: "A sandbox connection's execution settings: live execution, and whether it runs command nodes.",
  },
  'sandbox:setSettings': {
    input: z.strictObject({ connection_id: connectionId, live_execution: z.boolean(), allow_commands: z.boolean().default(false) }),
    output: sandboxSettingsSchema,
    mutates: true,
    summary: 'Change a sandbox connection’s execution settings; the sandbox reopens with them (runs in progress there are interrupted).',
  },
  'sandbox:listSecrets': {
    input: z.strictObject({ connection_id: connectionId }),
    output: sandboxSecretsSchema,
    mutates: false,
    summary: "The names of the secrets a sandbox's {{secret.NAME}} can read (never their values).",
  },
  'sandbox:setSecret': {
    input: z.strictObject({ connection_id: connectionId, name: secretName, value: z.string().min(1).max(16_384) }),
    output: sandboxSecretsSchema,
    mutates: true,
    summary: 'Keep a secret for a sandbox in the OS keychain (replacing one of the same name); its value never comes back.',
  },
  'sandbox:deleteSecret': {
    input: z.strictObject({ connection_id: connectionId, name: secretName }),
    output: sandboxSecretsSchema,
    mutates: true,
    summary: "Delete a sandbox's secret from the OS keychain.",
  },
  'files:saveText': {
    input: z.strictObject({
      /** The name the save dialog proposes. */
      file_name: z.string().min(1).max(200),
      text: z.string().max(5_000_000),
    }),
    /** `download`: this console has no save dialog (browser mode): the page saves the text as a download itself. */
    output: z.object({ saved: z.boolean(), path: z.string().nullable(), download: z.boolean() }),
    mutates: true,
    summary: 'Save text (a report) to a file the operator picks in a save dialog.',
  },
  'scenarios:list': {
    input: z.strictObject({}),
    output: z.object({ scenarios: z.array(scenarioInfoSchema) }),
    mutates: false,
    summary: 'Incidents a sandbox rehearsal can start from.',
  },
  'rehearsals:start': {
    input: z.strictObject({
      runbook: z.string().min(1).max(200),
      /** Sandbox only: set up this incident first. */
      scenario: z.string().max(200).nullable().default(null),
      /** 1-based steps not to execute (to see what happens without them). */
      skip_steps: z.array(z.number().int().positive()).max(200).default([]),
      /** Real ms per ms a wait step names (sandbox rehearsals may fast-forward). */
      time_scale: z.number().min(0).max(1).default(1),
      /**
       * Sandbox only: rehearse on a scratch copy of the sandbox (the default), so the operator's sandbox
       * is untouched and the rehearsal can be repeated from the same state; false changes the sandbox itself.
       */
      scratch: z.boolean().default(true),
      /**
       * paced (the default): every step but a wait waits for the operator's go, so the time to recover
       * measures the operator; automatic: the steps run by themselves (CI), measuring the machine.
       */
      pace: rehearsalPaceSchema.default('paced'),
      /**
       * Sandbox only, with a scenario: reset to the demo first (a scenario refuses a sandbox it cannot
       * stage with SCENARIO_NEEDS_RESET). On a scratch copy only the copy starts from the demo — the
       * sandbox stays as it is; on the local sandbox itself it is reset (kept as <file>.before-reset).
       */
      reset_first: z.boolean().default(false),
    }),
    output: rehearsalSessionSchema,
    mutates: true,
    summary: 'Rehearse a runbook against the selected connection (live on a server); progress is pushed.',
  },
  'rehearsals:confirm': {
    input: z.strictObject({ session_id: z.string().min(1).max(100), index: z.number().int().positive(), confirmed: z.boolean() }),
    output: rehearsalSessionSchema,
    mutates: true,
    summary: 'Answer the step awaiting confirmation (a checklist, or an action in a live execution).',
  },
  'rehearsals:abort': {
    input: z.strictObject({ session_id: z.string().min(1).max(100) }),
    output: rehearsalSessionSchema,
    mutates: true,
    summary: 'Stop a rehearsal; what ran so far is kept, marked failed.',
  },
  'notifications:show': {
    input: z.strictObject({
      connection_id: connectionId,
      title: z.string().min(1).max(200),
      body: z.string().max(1000),
      target: notificationTargetSchema,
    }),
    /**
     * `page`: this console shows no notifications of its own (browser mode): the page shows it with the
     * Notification API. Otherwise `shown` says whether the desktop showed it; a click comes back as
     * `notifications:clicked`.
     */
    output: z.object({ shown: z.boolean(), page: z.boolean() }),
    mutates: false,
    summary: "Show a desktop notification (Electron's Notification in the desktop app).",
  },
  'notifications:mute': {
    input: z.strictObject({ connection_id: connectionId, muted: z.boolean() }),
    output: connectionInfoSchema,
    mutates: true,
    summary: "Silence (or hear again) a connection's desktop notifications; remembered beside the connections file.",
  },
  'rehearsals:sessions': {
    input: z.strictObject({}),
    output: z.object({ sessions: z.array(rehearsalSessionSchema) }),
    mutates: false,
    summary: 'Rehearsals under way or just finished in this console.',
  },
} as const;

export type ConsoleMethods = typeof consoleMethods;
export type ConsoleMethod = keyof ConsoleMethods;

/** Pushes from main to the renderer. */
export const consoleEvents = {
  /** A new event on the selected connection's log (live, in seq order, each once). */
  'events:appended': z.object({ connection_id: z.string(), event: rewindEventSchema }),
  /** The connection list or a connection's state changed. */
  'connections:changed': z.object({ connections: z.array(connectionInfoSchema) }),
  /** A rehearsal session moved: a step started or finished, a confirmation is awaited, it ended. */
  'rehearsals:progress': rehearsalSessionSchema,
  /**
   * An event of a notifiable type (`notifiableEventTypes`) on any connection whose notifications are
   * not muted, the selected one or not: the renderer runs it through its notification rules. Once per
   * server however many connections reach it; `connection_id` is the one with the most rights there
   * (what a click opens). `workflow_name` is the workflow's name as its connection reads it (null when it could not be read).
   */
  'notifications:event': z.object({ connection_id: z.string(), event: rewindEventSchema, workflow_name: z.string().nullable() }),
  /** The operator clicked a desktop notification: switch to its connection and open what it was about. */
  'notifications:clicked': z.object({ connection_id: z.string(), target: notificationTargetSchema }),
  /** A snapshot's progress: phase and counts. */
  'snapshots:progress': z.object({
    path: z.string(),
    phase: z.enum(['workflows', 'versions', 'events', 'runs', 'runbooks', 'done', 'failed']),
    done: z.number().int(),
    total: z.number().int().nullable(),
    detail: z.string().nullable(),
  }),
} as const;
export type ConsoleEvents = typeof consoleEvents;
export type ConsoleEvent = keyof ConsoleEvents;
export type ConsoleEventPayload<E extends ConsoleEvent> = z.output<ConsoleEvents[E]>;
