import { secretNamePattern } from '../../../preload/contract/console-methods.js';
import { OUTPUTS_KEY, dotPathProblem, getPath } from '../dsl/paths.js';
import type { SecretSource } from './secrets.js';
import { secretVariable } from './secrets.js';

/*
 * `{{ctx.PATH}}` (a dot path into the run context) and `{{secret.NAME}}` (the server's
 * REWIND_SECRET_NAME) inside a real node's string params. Checked when a DSL is drafted, so a typo
 * is refused with its node and param path instead of failing a run hours later; resolved when the
 * node runs.
 */

export const TEMPLATE = /\{\{([^{}]*)\}\}/g;

export type TemplateRef = { kind: 'ctx'; path: string } | { kind: 'secret'; name: string };

/** Every template of a string, or the first problem with one. */
export function templateRefs(text: string): { refs: TemplateRef[]; problem: string | null } {
  const refs: TemplateRef[] = [];
  for (const match of text.matchAll(TEMPLATE)) {
    const inner = (match[1] as string).trim();
    if (inner.startsWith('ctx.')) {
      const path = inner.slice('ctx.'.length);
      const problem = dotPathProblem(path);
      if (problem !== null) return { refs, problem: `{{${inner}}}: the context path ${problem}` };
      refs.push({ kind: 'ctx', path });
    } else if (inner.startsWith('secret.')) {
      const name = inner.slice('secret.'.length);
      if (!secretNamePattern.test(name)) {
        return { refs, problem: `{{${inner}}}: '${name}' is not a valid secret name (upper-case letters, digits and _, starting with a letter)` };
      }
      refs.push({ kind: 'secret', name });
    } else {
      return { refs, problem: `{{${inner}}} is not a template: use {{ctx.PATH}} or {{secret.NAME}}` };
    }
  }
  return { refs, problem: null };
}

/** Each string inside a JSON-like value with its path (`headers.Authorization`, `argv.2`). */
export function* stringsOf(value: unknown, path: string[] = []): Generator<{ path: string[]; text: string }> {
  if (typeof value === 'string') yield { path, text: value };
  else if (Array.isArray(value)) for (let i = 0; i < value.length; i += 1) yield* stringsOf(value[i], [...path, String(i)]);
  else if (typeof value === 'object' && value !== null) for (const [k, v] of Object.entries(value)) yield* stringsOf(v, [...path, k]);
}

/**
 * The first template problem among a real node's params: bad syntax, an invalid secret name, or a
 * ctx path that cannot exist (`outputs.X` where X is no node of the DSL).
 */
export function paramTemplateProblem(params: Record<string, unknown>, nodeIds: ReadonlySet<string>): { path: string[]; message: string } | null {
  for (const [key, value] of Object.entries(params)) {
    if (key === 'sandbox') continue;
    for (const { path, text } of stringsOf(value, [key])) {
      const { refs, problem } = templateRefs(text);
      if (problem !== null) return { path, message: problem };
      for (const ref of refs) {
        if (ref.kind !== 'ctx') continue;
        const [head, nodeId] = ref.path.split('.');
        if (head === OUTPUTS_KEY && nodeId !== undefined && !nodeIds.has(nodeId)) {
          return { path, message: `{{ctx.${ref.path}}} reads the output of '${nodeId}', which is no node of this DSL` };
        }
      }
    }
  }
  return null;
}

export class TemplateError extends Error {}

/** Resolves a string's templates; a missing context value or secret throws a TemplateError naming it. */
export function renderString(text: string, context: Record<string, unknown>, secrets: SecretSource): string {
  return text.replace(TEMPLATE, (_all, raw: string) => {
    const inner = raw.trim();
    if (inner.startsWith('secret.')) return resolveSecret(inner.slice('secret.'.length), secrets);
    const path = inner.slice('ctx.'.length);
    const value = getPath(context, path);
    if (value === undefined) throw new TemplateError(`{{ctx.${path}}} is not in the run context`);
    return typeof value === 'string' ? value : JSON.stringify(value);
  });
}

/**
 * Resolves templates in every string of a JSON value. A string that is one `{{ctx.PATH}}` and
 * nothing else takes the context value as it is (a number stays a number in a JSON body).
 */
export function renderJson(value: unknown, context: Record<string, unknown>, secrets: SecretSource): unknown {
  if (typeof value === 'string') {
    const whole = /^\{\{\s*ctx\.([^{}\s]+)\s*\}\}$/.exec(value);
    if (whole) {
      const found = getPath(context, whole[1] as string);
      if (found === undefined) throw new TemplateError(`{{ctx.${whole[1]}}} is not in the run context`);
      return structuredClone(found);
    }
    return renderString(value, context, secrets);
  }
  if (Array.isArray(value)) return value.map((v) => renderJson(v, context, secrets));
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, renderJson(v, context, secrets)]));
  }
  return value;
}

/**
 * Where a URL template's authority (userinfo, host, port) ends: the first `/`, `?` or `#` after
 * `scheme://` outside a template (the whole length when there is none).
 */
export function urlAuthorityEnd(url: string): number {
  const start = url.indexOf('://');
  if (start < 0) return 0;
  let depth = 0;
  for (let i = start + 3; i < url.length; i += 1) {
    if (url.startsWith('{{', i)) {
      depth += 1;
      i += 1;
    } else if (depth > 0 && url.startsWith('}}', i)) {
      depth -= 1;
      i += 1;
    } else if (depth === 0 && (url[i] === '/' || url[i] === '?' || url[i] === '#')) {
      return i;
    }
  }
  return url.length;
}

/**
 * Resolves an http node's URL: the scheme and authority as written (only the server's own values and
 * secrets may be templated there: see template-safety.ts), and each `{{ctx.PATH}}` value in the path,
 * query or fragment percent-encoded, so a value cannot add a path segment, a query parameter or a
 * fragment. A value that would be a whole `.` or `..` path segment is refused (a URL parser climbs it
 * even percent-encoded). A `{{secret.NAME}}` is written as set: its owner writes it as the URL needs it.
 */
export function renderUrl(url: string, context: Record<string, unknown>, secrets: SecretSource): string {
  const end = urlAuthorityEnd(url);
  const head = renderString(url.slice(0, end), context, secrets);
  const rest = url.slice(end);
  const pathEnd = [rest.indexOf('?'), rest.indexOf('#')].filter((i) => i >= 0).reduce((a, b) => Math.min(a, b), rest.length);
  const tail = rest.replace(TEMPLATE, (whole: string, raw: string, offset: number) => {
    const inner = raw.trim();
    if (inner.startsWith('secret.')) return resolveSecret(inner.slice('secret.'.length), secrets);
    const path = inner.slice('ctx.'.length);
    const value = getPath(context, path);
    if (value === undefined) throw new TemplateError(`{{ctx.${path}}} is not in the run context`);
    const text = typeof value === 'string' ? value : JSON.stringify(value);
    const after = rest[offset + whole.length];
    const wholeSegment = offset < pathEnd && rest[offset - 1] === '/' && (after === undefined || after === '/' || after === '?' || after === '#');
    if (wholeSegment && (text === '.' || text === '..')) throw new TemplateError(`{{ctx.${path}}} is '${text}', which would climb the URL's path`);
    return encodeURIComponent(text);
  });
  return head + tail;
}

function resolveSecret(name: string, secrets: SecretSource): string {
  const value = secrets.get(name);
  if (value === undefined) throw new TemplateError(`the secret '${name}' is not set: set the environment variable ${secretVariable(name)} where the server runs`);
  return value;
}
