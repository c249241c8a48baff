import type { z } from 'zod';
import { backendMethods } from './backend-methods.js';
import { consoleMethods } from './console-methods.js';

export * from './errors.js';
export * from './entities.js';
export * from './backend-methods.js';
export * from './console-methods.js';

/** The whole console API: every method `window.rewind` exposes, each declared exactly once. */
export const consoleApi = { ...backendMethods, ...consoleMethods } as const;
export type ConsoleApi = typeof consoleApi;
export type ConsoleApiMethod = keyof ConsoleApi;
export type ApiInput<M extends ConsoleApiMethod> = z.input<ConsoleApi[M]['input']>;
export type ApiOutput<M extends ConsoleApiMethod> = z.output<ConsoleApi[M]['output']>;
export const consoleApiMethodNames = Object.keys(consoleApi) as ConsoleApiMethod[];

/** Every call's answer crosses the boundary as data, so the error's code and hint survive IPC. */
export type ApiResult<T> = { ok: true; value: T } | { ok: false; error: import('./errors.js').RewindErrorData };

/**
 * `window.rewind`: one function per method, grouped by namespace (`rewind.versions.rollback(input)`),
 * plus `on(event, listener)` returning an unsubscribe function.
 */
type Split<K extends string> = K extends `${infer NS}:${infer M}` ? [NS, M] : never;
export type RewindBridge = {
  [NS in Split<ConsoleApiMethod>[0]]: {
    [K in ConsoleApiMethod as Split<K>[0] extends NS ? Split<K>[1] : never]: (input: ApiInput<K>) => Promise<ApiResult<ApiOutput<K>>>;
  };
} & {
  on<E extends import('./console-methods.js').ConsoleEvent>(
    event: E,
    listener: (payload: import('./console-methods.js').ConsoleEventPayload<E>) => void,
  ): () => void;
};

export function splitMethod(name: string): [string, string] {
  const i = name.indexOf(':');
  return [name.slice(0, i), name.slice(i + 1)];
}
export * from './web-protocol.js';
export * from './runbooks.js';
export * from './names.js';
export * from './incidents.js';
export * from './incident-records.js';
export * from './audit.js';
export * from './changes.js';
export * from './canary.js';
export * from './webhooks.js';
export * from './approvals.js';
export * from './reviews.js';
export * from './sign-in.js';
