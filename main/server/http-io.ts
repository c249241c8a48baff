import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { type RewindErrorData, httpStatusOf } from '../../preload/contract/index.js';
import { RewindError } from '../engine/errors.js';
import { assertJsonDepth } from '../backends/json-depth.js';
import { assertNoNul } from '../backends/nul-text.js';

/** Plain JSON responses and error bodies: `{"error": {code, message, hint, details?}}` with the code's status. */

export type Headers = Record<string, string>;

const jsonType = 'application/json; charset=utf-8';

export function sendJson(res: ServerResponse, status: number, value: unknown, headers: Headers = {}): void {
  const body = JSON.stringify(value);
  res.writeHead(status, { 'content-type': jsonType, 'content-length': String(Buffer.byteLength(body)), 'cache-control': 'no-store', ...headers });
  res.end(body);
}

export function sendText(res: ServerResponse, status: number, contentType: string, body: string): void {
  res.writeHead(status, { 'content-type': contentType, 'content-length': String(Buffer.byteLength(body)), 'cache-control': 'no-store' });
  res.end(body);
}

/** 503 and 429 say when to come back: the error's own `details.retry_after_s` when it has one, else 1 s. */
export function errorHeaders(error: RewindErrorData): Headers {
  const status = httpStatusOf(error.code);
  if (status !== 503 && status !== 429) return {};
  const given = error.details?.retry_after_s;
  const seconds = typeof given === 'number' && Number.isFinite(given) && given > 0 ? Math.ceil(given) : 1;
  return { 'retry-after': String(seconds) };
}

export function sendError(res: ServerResponse, error: RewindErrorData, headers: Headers = {}): number {
  const status = httpStatusOf(error.code);
  if (res.headersSent) {
    res.destroy();
    return status;
  }
  sendJson(res, status, { error }, { ...errorHeaders(error), ...headers });
  return status;
}

/** For sockets that never became a ServerResponse: refused upgrades and unparsable requests. */
export function writeRawError(socket: Duplex, error: RewindErrorData): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const status = httpStatusOf(error.code);
  const body = JSON.stringify({ error });
  const extra = Object.entries(errorHeaders(error))
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('');
  socket.end(
    `HTTP/1.1 ${status} ${reason(status)}\r\ncontent-type: ${jsonType}\r\ncontent-length: ${Buffer.byteLength(body)}\r\n${extra}connection: close\r\n\r\n${body}`,
  );
}

function reason(status: number): string {
  const reasons: Record<number, string> = { 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 413: 'Payload Too Large', 503: 'Service Unavailable' };
  return reasons[status] ?? 'Error';
}

/**
 * Reads the body up to `limit` bytes. A declared or actual size above it is refused with 413 before
 * more is buffered; no body (or an empty one) reads as undefined.
 */
export async function readJsonBody(req: IncomingMessage, limit: number): Promise<unknown> {
  const tooLarge = () =>
    new RewindError('PAYLOAD_TOO_LARGE', `The body is larger than ${limit} bytes.`, 'Send a smaller request; large DSLs belong in several versions, not one body.', {
      limit_bytes: limit,
    });
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > limit) throw tooLarge();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw tooLarge();
    chunks.push(chunk);
  }
  if (size === 0) return undefined;
  const type = req.headers['content-type'];
  if (type !== undefined && !/^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i.test(type)) {
    throw new RewindError('MALFORMED_REQUEST', `Bodies are JSON; got content-type ${JSON.stringify(type.slice(0, 80))}.`, 'Send Content-Type: application/json.');
  }
  const text = Buffer.concat(chunks).toString('utf8');
  let value: unknown;
  try {
    // V8's JSON.parse does not recurse, so any depth parses; the walk below then bounds it.
    value = JSON.parse(text) as unknown;
  } catch (err) {
    throw new RewindError('MALFORMED_REQUEST', `The body is not valid JSON: ${err instanceof Error ? err.message : String(err)}`, 'Send a JSON object, e.g. {"change_log": "…"}.');
  }
  assertJsonDepth(value, 'The body');
  assertNoNul(value, 'The body');
  return value;
}

/** `req.url` as path and query, without URL's normalisation (which would resolve `//host` or `..` segments). */
export function splitUrl(raw: string | undefined): { pathname: string; query: URLSearchParams } {
  const url = raw ?? '/';
  const q = url.indexOf('?');
  const pathname = q === -1 ? url : url.slice(0, q);
  if (!pathname.startsWith('/')) throw new RewindError('MALFORMED_REQUEST', 'The request target must be a path.', 'Request a path like /api/v1/workflows.');
  return { pathname, query: new URLSearchParams(q === -1 ? '' : url.slice(q + 1)) };
}

export function bearerToken(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return m?.[1];
}
