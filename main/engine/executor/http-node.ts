import type { HttpParams } from '../dsl/node-params.js';
import { getPath, setPath } from '../dsl/paths.js';
import { Egress, refusalOf } from '../egress/egress.js';
import { maskerFor } from './masking.js';
import { type RealNodeContext, type RealNodeResult, defaultLimits, sleep } from './real-node.js';
import { unsafeHttpTemplate } from './template-safety.js';
import { TemplateError, renderJson, renderString, renderUrl } from './templating.js';

/*
 * The http node. Node's own fetch (undici): its AbortSignal covers the whole exchange — connect,
 * headers and every body chunk — so one signal gives the timeout (a slow drip included) and cancel;
 * its pool keeps connections alive between nodes; the body is read as a stream, so an oversized
 * answer is cut at the limit rather than buffered. It connects through the egress policy
 * (main/engine/egress/): every hop of a redirect to a checked address, never to a metadata service.
 */

/** The policy of http nodes where the engine was given none: private ranges allowed (internal services). */
let sharedEgress: Egress | null = null;
const defaultEgress = (): Egress => (sharedEgress ??= new Egress({ allowPrivate: true, what: 'http node' }));

type Attempt = { ok: true; status: number; text: string } | { ok: false; reason: string; retry: boolean };

export async function runHttpNode(params: HttpParams, ctx: RealNodeContext): Promise<RealNodeResult> {
  const redact = maskerFor(ctx.secrets);
  const limit = ctx.limits?.maxResponseBytes ?? defaultLimits.maxResponseBytes;
  // A version drafted before templates were checked: refused here as at drafting (UNSAFE_TEMPLATE).
  const unsafe = unsafeHttpTemplate(params);
  if (unsafe !== null) return { ok: false, error: `HTTP node '${ctx.nodeId}' refused to run (UNSAFE_TEMPLATE): ${unsafe.message} ${unsafe.hint}` };
  let url: string;
  let headers: Record<string, string>;
  let body: string | undefined;
  try {
    url = renderUrl(params.url, ctx.context, ctx.secrets);
    headers = Object.fromEntries(Object.entries(params.headers ?? {}).map(([k, v]) => [k, renderString(v, ctx.context, ctx.secrets)]));
    if (params.body !== undefined) {
      const rendered = renderJson(params.body, ctx.context, ctx.secrets);
      body = typeof rendered === 'string' ? rendered : JSON.stringify(rendered);
      if (typeof rendered !== 'string' && !hasHeader(headers, 'content-type')) headers['content-type'] = 'application/json';
    }
  } catch (err) {
    if (!(err instanceof TemplateError)) throw err;
    return { ok: false, error: redact.text(`HTTP node '${ctx.nodeId}': ${err.message}.`) };
  }
  const shown = redact.text(url);
  const fail = (reason: string): RealNodeResult => ({ ok: false, error: redact.text(`HTTP node '${ctx.nodeId}': ${params.method} ${shown} ${reason}.`) });
  if (!/^https?:\/\//i.test(url) || !URL.canParse(url)) return fail('is not an http(s) URL');

  const tries = params.retries + 1;
  let last: Attempt = { ok: false, reason: 'was not sent', retry: false };
  let made = 0;
  for (let attempt = 1; attempt <= tries; attempt += 1) {
    if (ctx.signal.aborted) return fail('was cancelled');
    made = attempt;
    last = await sendOnce(ctx.egress ?? defaultEgress(), params, url, { ...headers, 'Idempotency-Key': `${ctx.runId}/${ctx.nodeId}/${attempt}` }, body, ctx.signal, limit);
    if (last.ok && expected(params.expect_status, last.status)) {
      const answer = answerOf(last.status, last.text);
      return { ok: true, output: redact.value(params.redact_response ? kept(answer, last.status, ctx.keep ?? []) : answer) };
    }
    if (ctx.signal.aborted) return fail('was cancelled');
    const retryable = last.ok || last.retry;
    if (!retryable || attempt === tries) break;
    await sleep(params.backoff_ms * 2 ** (attempt - 1), ctx.signal);
  }
  const after = made > 1 ? ` (after ${made} attempts)` : '';
  if (last.ok) {
    // An echoing service's error page would echo too: with redact_response the body is not quoted.
    const quoted = params.redact_response ? ' (body not kept: redact_response)' : `: ${last.text.slice(0, 300)}`;
    return fail(`answered status ${last.status}, expected ${describeExpected(params.expect_status)}${after}${quoted}`);
  }
  return fail(`${last.reason}${after}`);
}

async function sendOnce(egress: Egress, params: HttpParams, url: string, headers: Record<string, string>, body: string | undefined, cancel: AbortSignal, limit: number): Promise<Attempt> {
  // One controller whose timer is cleared when the attempt ends: AbortSignal.timeout + AbortSignal.any cost
  // ~70 µs an attempt, and leave a timer (30 s by default) and the signals' weak links behind each node.
  const attempt = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    attempt.abort();
  }, params.timeout_ms);
  const onCancel = () => attempt.abort();
  cancel.addEventListener('abort', onCancel, { once: true });
  try {
    const response = await egress.fetch(url, { method: params.method, headers, ...(body === undefined ? {} : { body }), signal: attempt.signal });
    const declared = Number(response.headers.get('content-length') ?? NaN);
    if (declared > limit) {
      await response.body?.cancel();
      return { ok: false, reason: `answered ${response.status} with a body of ${declared} bytes, over the ${limit}-byte limit`, retry: false };
    }
    const chunks: Uint8Array[] = [];
    let size = 0;
    if (response.body) {
      const reader = response.body.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        size += value.byteLength;
        if (size > limit) {
          await reader.cancel();
          return { ok: false, reason: `answered ${response.status} with a body over the ${limit}-byte limit (cut there)`, retry: false };
        }
        chunks.push(value);
      }
    }
    return { ok: true, status: response.status, text: Buffer.concat(chunks).toString('utf8') };
  } catch (err) {
    if (timedOut && !cancel.aborted) return { ok: false, reason: `timed out after ${params.timeout_ms} ms`, retry: true };
    if (cancel.aborted) return { ok: false, reason: 'was cancelled', retry: false };
    // The policy will say the same on every attempt: no retry.
    const refused = refusalOf(err);
    if (refused) return { ok: false, reason: `was refused (${refused.code}): ${refused.message} ${refused.hint}`, retry: false };
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    return { ok: false, reason: `could not be reached (${cause?.code ?? cause?.message ?? (err as Error).message})`, retry: true };
  } finally {
    clearTimeout(timer);
    cancel.removeEventListener('abort', onCancel);
  }
}

function hasHeader(headers: Record<string, string>, name: string): boolean {
  return Object.keys(headers).some((k) => k.toLowerCase() === name);
}

function expected(rules: HttpParams['expect_status'], status: number): boolean {
  return rules.some((r) => (typeof r === 'number' ? r === status : status >= r[0] && status <= r[1]));
}

function describeExpected(rules: HttpParams['expect_status']): string {
  return rules.map((r) => (typeof r === 'number' ? String(r) : `${r[0]}–${r[1]}`)).join(', ');
}

/**
 * `redact_response`: only the answer's fields the workflow reads (`keep`: paths relative to the
 * answer) and the HTTP status at `status` — unless the workflow reads the answer's own `status`,
 * which then stays.
 */
function kept(answer: unknown, status: number, keep: readonly string[]): unknown {
  // A workflow that reads the whole answer (`{{ctx.response}}`) keeps it whole.
  if (keep.includes('')) return answer;
  const out: Record<string, unknown> = {};
  for (const path of keep) {
    if (path === '') continue;
    const value = getPath(answer, path);
    if (value !== undefined) setPath(out, path, structuredClone(value));
  }
  if (!Object.hasOwn(out, 'status')) out.status = status;
  return out;
}

/** The parsed JSON answer, or `{status, text}` when it is not JSON. */
function answerOf(status: number, text: string): unknown {
  if (text.trim() !== '') {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      // Not JSON: keep it as text.
    }
  }
  return { status, text };
}
