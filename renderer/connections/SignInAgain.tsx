import type { ConnectionInfo } from '../../preload/contract/index.js';
import { useSignIn } from '../store/sign-in-store.js';

/**
 * On the banner of an SSO connection whose sign-in ended (signed out, or a refresh the provider
 * refused): one button to sign in again, right where the person is — the view stays as it was.
 */
export function SignInAgain({ connection }: { connection: ConnectionInfo }) {
  const waiting = useSignIn((s) => s.waiting?.kind === 'connection' && s.waiting.id === connection.id);
  if (connection.kind !== 'remote' || connection.sign_in !== 'oidc' || connection.has_token) return null;
  return waiting ? (
    <span className="banner-action">
      Waiting for you in the browser…{' '}
      <button type="button" className="btn btn-ghost" onClick={() => void useSignIn.getState().cancel()} data-testid="sign-in-again-cancel">
        Cancel
      </button>
    </span>
  ) : (
    <button type="button" className="btn banner-action" onClick={() => void useSignIn.getState().signIn(connection.id)} data-testid="sign-in-again">
      Sign in again
    </button>
  );
}
