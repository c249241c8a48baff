import type { z } from 'zod';
import { type BackendMethod, backendMethodNames, backendMethods, type HttpRoute } from '../../preload/contract/index.js';
import { RewindError } from '../engine/errors.js';

/*
 * The server's route table, derived from the contract (`backendMethods[m].http`) — never a second
 * hand-written list. A request's input is assembled from the path's `:name` segments, the query
 * string (GET) or the JSON body (other verbs), and the `If-Match` header.
 */

type Verb = HttpRoute['method'];
type Segment = { literal: string } | { param: string };
/** What a field's schema expects once optional/default/nullable wrappers are peeled off. */
type FieldKind = 'number' | 'boolean' | 'other';

export interface CompiledRoute {
  method: BackendMethod;
  verb: Verb;
  /** The contract's path template, also the metrics label. */
  template: string;
  segments: Segment[];
  fields: ReadonlyMap<string, FieldKind>;
  takesRevision: boolean;
}

export type RouteMatch =
  | { kind: 'found'; route: CompiledRoute; params: Record<string, string> }
  | { kind: 'wrong-verb'; allowed: Verb[] }
  | { kind: 'none' };

function fieldKind(schema: z.ZodType): FieldKind {
  let def = schema.def as { type: string; innerType?: z.ZodType };
  while (def.innerType && (def.type === 'optional' || def.type === 'default' || def.type === 'nullable')) {
    def = def.innerType.def as { type: string; innerType?: z.ZodType };
  }
  return def.type === 'number' ? 'number' : def.type === 'boolean' ? 'boolean' : 'other';
}

function compile(method: BackendMethod): CompiledRoute {
  const spec = backendMethods[method];
  const shape = (spec.input as z.ZodObject).shape as Record<string, z.ZodType>;
  const fields = new Map(Object.entries(shape).map(([name, schema]) => [name, fieldKind(schema)] as const));
  const segments = spec.http.path
    .split('/')
    .slice(1)
    .map((s): Segment => (s.startsWith(':') ? { param: s.slice(1) } : { literal: s }));
  for (const s of segments) {
    if ('param' in s && !fields.has(s.param)) throw new Error(`${method}: path segment :${s.param} names no input field`);
  }
  return { method, verb: spec.http.method, template: spec.http.path, segments, fields, takesRevision: fields.has('expected_revision') };
}

const literalCount = (r: CompiledRoute) => r.segments.filter((s) => 'literal' in s).length;

/** Every backend method's route; literal segments win over parameters (`events/verify` before a `:name`). */
export const routes: readonly CompiledRoute[] = backendMethodNames.map(compile).sort((a, b) => literalCount(b) - literalCount(a));

/** A percent-encoded path segment, decoded; bad encoding is the client's mistake (400), not a crash. */
export function decodeSegment(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    throw new RewindError('MALFORMED_REQUEST', 'A path segment is not valid percent-encoding.', 'Percent-encode ids in the path (encodeURIComponent).');
  }
}

function matchSegments(route: CompiledRoute, parts: readonly string[]): Record<string, string> | null {
  if (route.segments.length !== parts.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < parts.length; i++) {
    const seg = route.segments[i]!;
    const part = parts[i]!;
    if ('literal' in seg) {
      if (seg.literal !== part) return null;
    } else {
      if (part === '') return null;
      params[seg.param] = part;
    }
  }
  return params;
}

export function matchRoute(verb: string, pathname: string, table: readonly CompiledRoute[] = routes): RouteMatch {
  const trimmed = pathname.length > 1 && pathname.endsWith('/') ? pathname.slice(0, -1) : pathname;
  const parts = trimmed.split('/').slice(1);
  const allowed: Verb[] = [];
  for (const route of table) {
    const raw = matchSegments(route, parts);
    if (!raw) continue;
    if (route.verb !== verb) {
      if (!allowed.includes(route.verb)) allowed.push(route.verb);
      continue;
    }
    const params: Record<string, string> = {};
    for (const [k, v] of Object.entries(raw)) params[k] = decodeSegment(v);
    return { kind: 'found', route, params };
  }
  return allowed.length > 0 ? { kind: 'wrong-verb', allowed } : { kind: 'none' };
}

const numeric = /^-?\d+(\.\d+)?([eE][+-]?\d+)?$/;

/** Path and query values are strings; a field whose schema expects a number or boolean gets one, when it reads as one. */
function coerce(kind: FieldKind | undefined, value: string): unknown {
  if (kind === 'number' && numeric.test(value)) return Number(value);
  if (kind === 'boolean' && (value === 'true' || value === 'false')) return value === 'true';
  return value;
}

/**
 * `If-Match: "7"` (or `W/"7"`, or a bare `7`) → 7; `*` → undefined (any revision).
 * A list of tags is refused: a mutation is based on exactly one revision.
 */
export function parseIfMatch(header: string | undefined): number | undefined {
  if (header === undefined) return undefined;
  const value = header.trim();
  if (value === '*') return undefined;
  const m = /^(?:W\/)?"?(\d{1,15})"?$/.exec(value);
  if (!m) {
    throw new RewindError(
      'MALFORMED_REQUEST',
      `If-Match must name one revision, like "7"; got ${JSON.stringify(value.slice(0, 40))}.`,
      'Send the revision from the ETag (or the `revision` field) of the state you based the change on.',
    );
  }
  return Number(m[1]);
}

export interface RequestParts {
  params: Record<string, string>;
  query: URLSearchParams;
  /** The parsed JSON body; undefined when there was none. */
  body: unknown;
  ifMatch: number | undefined;
}

function malformed(message: string, hint: string): RewindError {
  return new RewindError('MALFORMED_REQUEST', message, hint);
}

/** Assembles the method's input object; the contract's strict schema then refuses anything unknown. */
export function buildInput(route: CompiledRoute, parts: RequestParts): Record<string, unknown> {
  const input: Record<string, unknown> = {};
  if (route.verb === 'GET') {
    if (parts.body !== undefined) throw malformed(`${route.verb} ${route.template} takes no body.`, 'Send the fields as query parameters.');
    for (const key of new Set(parts.query.keys())) {
      const values = parts.query.getAll(key);
      if (values.length > 1) throw malformed(`Query parameter "${key}" appears ${values.length} times.`, 'Send each parameter once.');
      if (key in parts.params) throw malformed(`"${key}" comes from the path, not the query string.`, `Remove ?${key}= from the URL.`);
      input[key] = coerce(route.fields.get(key), values[0]!);
    }
  } else {
    if ([...parts.query.keys()].length > 0) {
      throw malformed(`${route.verb} ${route.template} takes a JSON body, not a query string.`, 'Move the parameters into the JSON body.');
    }
    if (parts.body !== undefined) {
      if (typeof parts.body !== 'object' || parts.body === null || Array.isArray(parts.body)) {
        throw malformed('The body must be a JSON object.', `Send {"field": value, …} as the fields of ${route.method}.`);
      }
      for (const [key, value] of Object.entries(parts.body)) {
        if (key in parts.params) throw malformed(`"${key}" comes from the path, not the body.`, `Remove "${key}" from the body.`);
        input[key] = value;
      }
    }
  }
  for (const [key, value] of Object.entries(parts.params)) input[key] = coerce(route.fields.get(key), value);
  if (parts.ifMatch !== undefined) {
    if (!route.takesRevision) {
      throw malformed(`${route.verb} ${route.template} is not based on a workflow revision; If-Match cannot apply.`, 'Drop the If-Match header for this request.');
    }
    if (input.expected_revision !== undefined && input.expected_revision !== parts.ifMatch) {
      throw malformed('If-Match and expected_revision disagree.', 'Send the revision once, in If-Match.');
    }
    input.expected_revision = parts.ifMatch;
  }
  return input;
}

/** Fills a route template from an input object: what a client sends, split into path, query and body. */
export function splitInput(route: CompiledRoute, input: Record<string, unknown>): {
  path: string;
  query: URLSearchParams;
  body: Record<string, unknown> | undefined;
  expectedRevision: number | undefined;
} {
  const rest: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(input)) if (v !== undefined) rest[k] = v;
  const path = route.segments
    .map((s) => {
      if ('literal' in s) return s.literal;
      const value = rest[s.param];
      delete rest[s.param];
      return encodeURIComponent(String(value));
    })
    .join('/');
  const expectedRevision = typeof rest.expected_revision === 'number' ? rest.expected_revision : undefined;
  delete rest.expected_revision;
  const query = new URLSearchParams();
  if (route.verb === 'GET') {
    for (const [k, v] of Object.entries(rest)) query.set(k, typeof v === 'string' ? v : JSON.stringify(v));
    return { path: `/${path}`, query, body: undefined, expectedRevision };
  }
  return { path: `/${path}`, query, body: rest, expectedRevision };
}
