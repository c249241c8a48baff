import { create } from 'zustand';
import type { ApiInput, AuthDiscovery, ConnectionInfo, RewindErrorData, SignInResult } from '../../preload/contract/index.js';
import { api, toErrorData, unwrap } from '../api/client.js';
import { useConnections } from './connections-store.js';
import { useToasts } from './toasts-store.js';
import { useUi } from './ui-store.js';
import { useWorkflows } from './workflows-store.js';

/*
 * "Sign in with SSO": what a server offers (its /auth, asked while a URL is typed), and the sign-in
 * under way. Desktop: main opens the system browser and the call answers once the person is back.
 * Browser mode: the answer is the provider's address; the page goes there and comes back signed in —
 * with the view it left, kept for that one trip in this tab's session storage.
 *
 *   idle → waiting (the browser) → idle | failed
 */

export interface SignInState {
  /** The server URL last asked, and what it offers (null until it answered, or when it could not be asked). */
  probedUrl: string | null;
  offered: AuthDiscovery | null;
  /** A sign-in is waiting for the person in the browser: for a new server (`add`) or a connection (its id). */
  waiting: { kind: 'add' } | { kind: 'connection'; id: string } | null;
  error: RewindErrorData | null;
}

export const signInInitialState: SignInState = { probedUrl: null, offered: null, waiting: null, error: null };

/** Where the page was when it left for the provider (browser mode), restored once it is back. */
const RETURN_KEY = 'rewind.afterSignIn';

interface SignInActions {
  /** Asks the server at `url` how people sign in there; quietly nothing when it cannot be asked (a token is still possible). */
  probe(url: string): Promise<void>;
  addSso(input: ApiInput<'connections:addSso'>): Promise<ConnectionInfo | null>;
  signIn(id: string): Promise<boolean>;
  cancel(): Promise<void>;
  signOut(id: string): Promise<void>;
  clearError(): void;
}

function leaveForProvider(redirect: string): void {
  try {
    globalThis.sessionStorage?.setItem(RETURN_KEY, JSON.stringify({ view: useUi.getState().view, workflow: useWorkflows.getState().selectedId }));
  } catch {
    // Without session storage the console opens on Home when it comes back; the sign-in works the same.
  }
  window.location.assign(redirect);
}

/** Browser mode, back from the provider: the view and workflow the page left. */
export function restoreAfterSignIn(): void {
  let saved: unknown;
  try {
    const raw = globalThis.sessionStorage?.getItem(RETURN_KEY);
    if (!raw) return;
    globalThis.sessionStorage.removeItem(RETURN_KEY);
    saved = JSON.parse(raw);
  } catch {
    return;
  }
  const { view, workflow } = (saved ?? {}) as { view?: unknown; workflow?: unknown };
  if (view === 'home' || view === 'workflows' || view === 'runs' || view === 'runbooks' || view === 'audit') useUi.getState().setView(view);
  if (typeof workflow === 'string') useWorkflows.getState().select(workflow);
}

export const useSignIn = create<SignInState & SignInActions>()((set, get) => {
  /** One sign-in's outcome: signed in (desktop), or off to the provider (browser mode). */
  const settle = async (result: SignInResult): Promise<ConnectionInfo | null> => {
    if (result.redirect !== null) {
      leaveForProvider(result.redirect);
      return null;
    }
    await useConnections.getState().load();
    return result.connection;
  };
  return {
    ...signInInitialState,
    async probe(url) {
      set({ probedUrl: url, offered: null });
      const result = await api().connections.authMethods({ url });
      // Only the answer for the URL still typed counts.
      if (get().probedUrl === url) set({ offered: result.ok ? result.value : null });
    },
    async addSso(input) {
      set({ waiting: { kind: 'add' }, error: null });
      try {
        const result = await unwrap(api().connections.addSso(input));
        const connection = await settle(result);
        set({ waiting: null });
        return connection;
      } catch (e) {
        set({ waiting: null, error: toErrorData(e) });
        return null;
      }
    },
    async signIn(id) {
      set({ waiting: { kind: 'connection', id }, error: null });
      try {
        const connection = await settle(await unwrap(api().connections.signIn({ id })));
        set({ waiting: null });
        return connection !== null;
      } catch (e) {
        set({ waiting: null, error: toErrorData(e) });
        return false;
      }
    },
    async cancel() {
      await api().connections.cancelSignIn({});
    },
    async signOut(id) {
      try {
        const info = await unwrap(api().connections.signOut({ id }));
        await useConnections.getState().load();
        useToasts.getState().push({ kind: 'info', title: `Signed out of ${info.name}`, body: 'Your sign-in is forgotten here (and revoked at the provider where it can be). Sign in again from the connection menu.' });
      } catch (e) {
        const error = toErrorData(e);
        useToasts.getState().push({ kind: 'error', title: 'Sign out failed', body: `${error.message} ${error.hint}` });
      }
    },
    clearError() {
      set({ error: null });
    },
  };
});
