import { type RewindErrorData, rewindErrorSchema } from '../../../preload/contract/index.js';
import { RewindError } from '../../engine/errors.js';

/*
 * What can go wrong between the console and a workflow server, as RewindErrors whose hints say what
 * to do: the server cannot be reached, does not answer in time, fails TLS, refuses the token, or
 * speaks another protocol.
 */

const tlsCode = /CERT|SSL|TLS|EPROTO|SELF_SIGNED|UNABLE_TO_VERIFY|DEPTH_ZERO|UNABLE_TO_GET_ISSUER|HOSTNAME/i;

function causeOf(err: unknown): { code: string; message: string } {
  let current: unknown = err;
  let message = err instanceof Error ? err.message : String(err);
  // fetch wraps the socket error: TypeError('fetch failed', { cause: Error & { code } }), sometimes twice.
  for (let depth = 0; depth < 4 && current instanceof Error; depth++) {
    message = current.message;
    const code = (current as NodeJS.ErrnoException).code;
    if (typeof code === 'string') return { code, message };
    current = current.cause;
  }
  return { code: '', message };
}

export function isTlsFailure(err: unknown): boolean {
  const { code, message } = causeOf(err);
  return tlsCode.test(code) || /certificate|ssl|tls/i.test(message);
}

/** A failure before any HTTP answer arrived. */
export function transportError(err: unknown, url: string, timeoutMs: number): RewindError {
  if (err instanceof Error && err.name === 'TimeoutError') {
    return new RewindError(
      'TIMEOUT',
      `${url} did not answer within ${Math.round(timeoutMs / 100) / 10} s.`,
      'The server may be overloaded or the network slow. A change that timed out may still have applied: reload before repeating it (a retry with the same idempotency key is safe).',
      { url, timeout_ms: timeoutMs },
    );
  }
  if (err instanceof Error && err.name === 'AbortError') {
    return new RewindError('UNREACHABLE', `The request to ${url} was cancelled: the connection is closing.`, 'Reconnect to the server and try again.', { url });
  }
  const { code, message } = causeOf(err);
  if (isTlsFailure(err)) {
    return new RewindError(
      'TLS_FAILED',
      `The TLS handshake with ${url} failed: ${message}${code ? ` (${code})` : ''}.`,
      "Check the server's certificate: signed by a CA this machine trusts (for a private CA, start Rewind with NODE_EXTRA_CA_CERTS=ca.pem), issued for this host name, not expired. If the server speaks plain HTTP, use an http:// URL.",
      { url, cause: code || message },
    );
  }
  return new RewindError(
    'UNREACHABLE',
    `Cannot reach ${url}: ${code || message}.`,
    'Check the URL and port, that the server is running (npm run server), and that no firewall or VPN stands between.',
    { url, cause: code || message },
  );
}

export function unauthorizedError(url: string, data?: RewindErrorData): RewindError {
  // A refused JWT says why (expired, another audience…) and its hint says what to do: keep both.
  if (data?.details?.reason !== undefined) return new RewindError('UNAUTHORIZED', data.message, data.hint, { ...data.details, url });
  return new RewindError(
    'UNAUTHORIZED',
    data?.message ?? `${url} refused the token.`,
    "Check the token saved for this connection (or REWIND_TOKEN): it may be mistyped, or revoked. An admin can issue a new one (`rewind tokens create`).",
    { url },
  );
}

export function protocolError(url: string, what: string, details: Record<string, unknown> = {}): RewindError {
  return new RewindError(
    'PROTOCOL_MISMATCH',
    `${url} ${what}`,
    'Is this URL a Rewind workflow server, of a version this console speaks? Check the URL; upgrade whichever of the two is older.',
    { url, ...details },
  );
}

/** An HTTP error answer as the server's own RewindError, or a protocol error when it is not one. */
export function answerError(url: string, status: number, body: unknown): RewindError {
  const parsed = rewindErrorSchema.safeParse(typeof body === 'object' && body !== null && 'error' in body ? body.error : undefined);
  if (!parsed.success) return protocolError(url, `answered HTTP ${status} without a Rewind error body.`, { status });
  if (parsed.data.code === 'UNAUTHORIZED') return unauthorizedError(url, parsed.data);
  return RewindError.fromData(parsed.data);
}
