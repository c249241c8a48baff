import type { z } from 'zod';
import { toErrorData, RewindError } from '../engine/errors.js';
import { assertJsonDepth } from '../backends/json-depth.js';
import {
  backendMethods,
  consoleApi,
  type ApiOutput,
  type ApiResult,
  type BackendMethod,
  type ConsoleMethod,
  type ConsoleMethods,
  type MethodInput,
} from '../../preload/contract/index.js';
import { type ConnectionManager, SANDBOX_ID } from './connections/connection-manager.js';
import { consoleRehearsals } from './rehearsals/rehearsal-sessions.js';

/**
 * The console API behind every transport (Electron IPC, browser mode's WebSocket): input arrives
 * as `unknown`, is parsed by the method's schema, routed, and answered as data — never thrown —
 * so the error's code and hint survive the trip.
 */
export interface ConsoleService {
  handle(method: string, input: unknown): Promise<ApiResult<unknown>>;
  /** Ends what the service runs itself (rehearsals under way keep their records, marked failed). */
  close(): Promise<void>;
}

type ConnectionHandlers = {
  [M in ConsoleMethod]: (input: z.output<ConsoleMethods[M]['input']>) => Promise<ApiOutput<M>>;
};

/** Saves text where the operator picks (Electron's save dialog); null when this console has none (browser mode). */
export type SaveText = (fileName: string, text: string) => Promise<string | null>;

/**
 * Shows a native desktop notification (Electron's, in the shell entry); `onClick` when the operator
 * clicks it. Returns whether it was shown. Absent in browser mode, where the page uses the Notification API.
 */
export type Notify = (notification: { title: string; body: string }, onClick: () => void) => boolean;

export function createConsoleService({ connections, saveText, notify }: { connections: ConnectionManager; saveText?: SaveText; notify?: Notify }): ConsoleService {
  const rehearsals = consoleRehearsals(connections);
  /** Reopening or resetting a sandbox would pull it from under a rehearsal running on it. */
  const refuseDuringRehearsal = (connectionId: string, where: string, then: string) => {
    const running = rehearsals.list().find((r) => r.connection_id === connectionId && (r.state === 'running' || r.state === 'setting_up' || r.state === 'awaiting_confirmation'));
    if (running) throw new RewindError('BUSY', `A rehearsal of "${running.runbook_name}" is under way on ${where}.`, `Finish or abort it, then ${then}.`);
  };
  // A mapped type over the contract: a connection method without a handler does not compile.
  const connectionHandlers: ConnectionHandlers = {
    'connections:list': async () => ({ connections: connections.list() }),
    'connections:add': (input) => connections.add(input),
    'connections:remove': async ({ id }) => ({ removed: await connections.remove(id) }),
    'connections:select': async ({ id }) => connections.select(id),
    'connections:setToken': ({ id, token }) => connections.setToken(id, token),
    'connections:authMethods': ({ url }) => connections.authMethods(url),
    'connections:addSso': (input) => connections.addSso(input),
    'connections:signIn': ({ id }) => connections.signIn(id),
    'connections:cancelSignIn': async () => ({ cancelled: connections.cancelSignIn() }),
    'connections:signOut': ({ id }) => connections.signOut(id),
    'connections:openSandbox': ({ path }) => connections.openSandbox(path),
    'snapshots:create': (input) => connections.createSnapshot(input),
    'sandbox:contents': async () => connections.sandboxContents(),
    'sandbox:reset': async () => {
      refuseDuringRehearsal(SANDBOX_ID, 'the sandbox', 'reset the sandbox');
      return connections.resetSandbox();
    },
    'sandbox:getSettings': ({ connection_id }) => connections.sandboxSettings(connection_id),
    'sandbox:setSettings': async ({ connection_id, live_execution, allow_commands }) => {
      refuseDuringRehearsal(connection_id, 'this sandbox', 'change the live execution settings');
      return connections.setSandboxSettings(connection_id, { live_execution, allow_commands });
    },
    'sandbox:listSecrets': ({ connection_id }) => connections.sandboxSecrets(connection_id),
    'sandbox:setSecret': ({ connection_id, name, value }) => connections.setSandboxSecret(connection_id, name, value),
    'sandbox:deleteSecret': ({ connection_id, name }) => connections.deleteSandboxSecret(connection_id, name),
    'files:saveText': async ({ file_name, text }) => {
      if (!saveText) return { saved: false, path: null, download: true };
      const path = await saveText(file_name, text);
      return { saved: path !== null, path, download: false };
    },
    'notifications:show': async ({ connection_id, title, body, target }) => {
      if (!notify) return { shown: false, page: true };
      return { shown: notify({ title, body }, () => connections.push('notifications:clicked', { connection_id, target })), page: false };
    },
    'notifications:mute': ({ connection_id, muted }) => connections.setMuted(connection_id, muted),
    'scenarios:list': async () => ({ scenarios: rehearsals.scenarios() }),
    'rehearsals:start': (input) => rehearsals.start(input),
    'rehearsals:confirm': async (input) => rehearsals.confirm(input),
    'rehearsals:abort': ({ session_id }) => rehearsals.abort(session_id),
    'rehearsals:sessions': async () => ({ sessions: rehearsals.list() }),
  };

  const route = (method: keyof typeof consoleApi, input: unknown): Promise<unknown> => {
    if (isBackendMethod(method)) {
      return connections.selectedBackend().call(method, input as MethodInput<typeof method>);
    }
    const handler = connectionHandlers[method] as (input: unknown) => Promise<unknown>;
    return handler(input);
  };

  return {
    async handle(method, input) {
      try {
        if (!Object.hasOwn(consoleApi, method)) {
          throw new RewindError('MALFORMED_REQUEST', `There is no console method ${JSON.stringify(method)}.`, 'The console and its main process are from different builds; restart Rewind.');
        }
        const name = method as keyof typeof consoleApi;
        const spec = consoleApi[name];
        assertJsonDepth(input, `The input of ${name}`);
        const parsedInput = spec.input.safeParse(input ?? {});
        if (!parsedInput.success) throw validationError(name, parsedInput.error);
        const output = await route(name, parsedInput.data);
        const parsedOutput = spec.output.safeParse(output);
        if (!parsedOutput.success) {
          throw new RewindError(
            'PROTOCOL_MISMATCH',
            `The answer to ${name} does not match the console contract (${describeIssue(parsedOutput.error.issues[0])}).`,
            'The connection runs a different version of Rewind. Upgrade the console or the server so both speak the same contract.',
          );
        }
        return { ok: true, value: parsedOutput.data };
      } catch (err) {
        return { ok: false, error: toErrorData(err) };
      }
    },
    close: () => rehearsals.close(),
  };
}

function isBackendMethod(method: string): method is BackendMethod {
  return Object.hasOwn(backendMethods, method);
}

function describeIssue(issue: z.core.$ZodIssue | undefined): string {
  if (!issue) return 'invalid';
  return issue.path.length > 0 ? `${issue.path.map(String).join('.')}: ${issue.message}` : issue.message;
}

function validationError(method: string, error: z.ZodError): RewindError {
  const issues = error.issues.map((i) => ({ path: i.path.map(String).join('.'), message: i.message }));
  return new RewindError(
    'VALIDATION_FAILED',
    `Invalid input for ${method}: ${error.issues.map(describeIssue).join('; ')}.`,
    'Correct the highlighted field and try again.',
    { issues },
  );
}
