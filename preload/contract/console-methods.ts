import { z } from 'zod';
import { rewindEventSchema } from './entities.js';

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
  /** `production` asks for a stronger confirmation before destructive actions. */
  environment: z.enum(['sandbox', 'staging', 'production']),
  color: z.string().regex(/^#[0-9a-fA-F]{6}$/),
  state: connectionStateSchema,
  /** Why the connection is refused or unreachable, with what to do. */
  detail: z.string().nullable(),
  has_token: z.boolean(),
  selected: z.boolean(),
});
export type ConnectionInfo = z.infer<typeof connectionInfoSchema>;

const connectionId = z.string().min(1).max(100);

export const consoleMethods = {
  'connections:list': {
    input: z.strictObject({}),
    output: z.object({ connections: z.array(connectionInfoSchema) }),
    mutates: false,
    summary: 'Every connection with its live state.',
  },
  'connections:add': {
    input: z.strictObject({
      name: z.string().trim().min(1).max(100),
      url: z.url({ protocol: /^https?$/ }),
      environment: z.enum(['staging', 'production']).default('staging'),
      color: z.string().regex(/^#[0-9a-fA-F]{6}$/).optional(),
      token: z.string().min(1).max(4096),
    }),
    output: connectionInfoSchema,
    mutates: true,
    summary: 'Add a remote server; its token goes to the OS keychain.',
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
} as const;

export type ConsoleMethods = typeof consoleMethods;
export type ConsoleMethod = keyof ConsoleMethods;

/** Pushes from main to the renderer. */
export const consoleEvents = {
  /** A new event on the selected connection's log (live, in seq order, each once). */
  'events:appended': z.object({ connection_id: z.string(), event: rewindEventSchema }),
  /** The connection list or a connection's state changed. */
  'connections:changed': z.object({ connections: z.array(connectionInfoSchema) }),
} as const;
export type ConsoleEvents = typeof consoleEvents;
export type ConsoleEvent = keyof ConsoleEvents;
export type ConsoleEventPayload<E extends ConsoleEvent> = z.output<ConsoleEvents[E]>;
