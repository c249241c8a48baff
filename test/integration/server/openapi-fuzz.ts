import fc from 'fast-check';
import { expect } from 'vitest';
import { routes } from '../../../main/protocol/routes.js';
import { type ErrorCode, errorCodes, httpStatusOf } from '../../../preload/contract/index.js';
import { type OpenApiChecker, type OpenApiOperation, httpVerbs } from '../../support/openapi-conformance.js';
import { type TestServer, uniqueName } from './harness.js';
import { SchemaArbitraries } from './openapi-arbitraries.js';

/* The OpenAPI fuzzer's requests, their sending and the checks on every answer (fuzz.test.ts runs it on each store). */

export const printable = (maxLength: number) => fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength });
export const anyText = (maxLength: number) => fc.string({ unit: 'binary', maxLength });

type JsonSchema = Record<string, unknown>;
type Role = 'admin' | 'operator' | 'viewer';
/**
 * One input of a request: a value (`raw`: already encoded for the URL; `bad`: generated outside its
 * schema), or drawn when the request is sent from what earlier answers named under `keys` (else
 * under `fallback`, else `otherwise`) that its schema allows.
 */
type Aimed = { keys: string[]; fallback: string[]; schema: JsonSchema; pick: number; otherwise: unknown; quote?: boolean };
type Part = { value: unknown; raw?: boolean; bad?: boolean } | Aimed;
/** A JSON body valid for its schema, some of whose top-level fields take what earlier answers named (`aim`) when they allow it. */
type BodyPart = { object: Record<string, unknown>; aim: Record<string, Aimed> } | { value: string | undefined; bad: true };

interface Operation {
  /** `GET /api/v1/workflows/{workflow_id}`: the document's own name for it. */
  key: string;
  verb: string;
  template: string;
  operation: OpenApiOperation;
}

interface FuzzRequest {
  key: string;
  random: boolean;
  method: string;
  path: Part[];
  query: Array<[string, Part]>;
  headers: Record<string, Part>;
  auth: Role | 'none' | 'garbage';
  body: BodyPart | undefined;
}

/** Cases and answers per operation (FUZZ_REPORT=1 prints them). */
interface Tally {
  cases: number;
  /** Requests whose every input was generated valid for its schema. */
  valid: number;
  ok: number;
  refused: number;
  codes: Map<string, number>;
}

const given = (value: unknown, bad = false): Part => ({ value, bad });
const isBad = (p: Part | BodyPart | undefined) => p !== undefined && 'bad' in p && p.bad === true;

/**
 * The fuzzer: every operation of the document the server serves, with random valid and invalid
 * inputs (fast-check over the operation's own JSON Schemas), plus requests the document does not
 * describe at all. Every answer: below 500, a status the operation documents, a body that matches
 * its schema, and a typed error whose code belongs to its status. Nothing here names an operation:
 * a route added to the contract is fuzzed as soon as the document serves it.
 */
export function fuzzOperations(s: TestServer, checker: OpenApiChecker, tokens: Record<Role, string>) {
  const doc = checker.document;
  const schemas = new SchemaArbitraries(doc);
  const operations: Operation[] = Object.entries(doc.paths).flatMap(([template, ops]) =>
    httpVerbs.filter((v) => ops[v]).map((verb) => ({ key: `${verb.toUpperCase()} ${template}`, verb: verb.toUpperCase(), template, operation: ops[verb]! })),
  );

  /** What earlier 2xx answers named, by field: real ids, names, versions and revisions to aim requests at. */
  const pools = new Map<string, string[]>();
  function harvest(value: unknown, key = ''): void {
    if (Array.isArray(value)) {
      for (const v of value.slice(0, 20)) harvest(v, key);
    } else if (typeof value === 'object' && value !== null) {
      for (const [k, v] of Object.entries(value)) harvest(v, k);
    } else if (key !== '' && (typeof value === 'string' || typeof value === 'number') && String(value).length <= 200) {
      const pool = pools.get(key) ?? [];
      const text = String(value);
      if (!pool.includes(text)) {
        pool.push(text);
        if (pool.length > 64) pool.shift();
        pools.set(key, pool);
      }
    }
  }
  /** Pool values are text; a path or query value is too, read as a number or boolean where its schema wants one (as the server does). */
  const coerce = (text: string, schema: JsonSchema): unknown => {
    const type = schema.type;
    if ((type === 'integer' || type === 'number') && /^-?\d+(\.\d+)?$/.test(text)) return Number(text);
    if (type === 'boolean' && (text === 'true' || text === 'false')) return text === 'true';
    return text;
  };
  const fits = (p: Aimed, keys: string[]) => keys.flatMap((k) => pools.get(k) ?? []).filter((text) => checker.validator(p.schema)(coerce(text, p.schema)));
  /** What earlier answers named that the part's schema allows, if anything. */
  const aimed = (p: Aimed): string | undefined => {
    const named = fits(p, p.keys);
    const candidates = named.length > 0 ? named : fits(p, p.fallback);
    return candidates.length > 0 ? candidates[p.pick % candidates.length] : undefined;
  };
  const resolve = (p: Part): unknown => ('value' in p ? p.value : (aimed(p) ?? p.otherwise));
  const bodyText = (b: BodyPart): string | undefined => {
    if ('value' in b) return b.value;
    const object = { ...b.object };
    for (const [name, p] of Object.entries(b.aim)) {
      const found = aimed(p);
      if (found !== undefined) object[name] = coerce(found, p.schema);
    }
    return JSON.stringify(object);
  };
  const asText = (v: unknown) => (typeof v === 'string' ? v : JSON.stringify(v));

  /** A field named like one answers carried draws from those values; ids otherwise come from the `id` and `name` fields answers carried. */
  const fromAnswers = (name: string, schema: JsonSchema): fc.Arbitrary<Part> => {
    const numeric = schema.type === 'integer' || schema.type === 'number';
    return fc.tuple(fc.nat(), schemas.valid(schema)).map(([pick, otherwise]) => ({ keys: [name], fallback: numeric ? [] : ['id', 'name'], schema, pick, otherwise }));
  };
  const valid = (schema: JsonSchema) => schemas.valid(schema).map((v) => given(v));
  const wrong = (schema: JsonSchema) => schemas.wrongFor(schema).map((v) => given(v, true));
  const garbageSegment = fc
    .oneof(
      anyText(30)
        .filter((t) => t.length > 0)
        .map(encodeURIComponent),
      fc.constantFrom('..', '%00', '%E0%A4%A', '%2F', 'null', '1e309', '-0', '%20', 'x'.repeat(300)),
    )
    .map((value): Part => ({ value, raw: true, bad: true }));

  const role = (least: string | undefined, open: boolean) =>
    fc.oneof(
      { weight: open ? 1 : 6, arbitrary: fc.constant<Role>('admin') },
      { weight: least === 'admin' ? 1 : 2, arbitrary: fc.constant<Role>('operator') },
      { weight: least === 'viewer' ? 2 : 1, arbitrary: fc.constant<Role>('viewer') },
      { weight: open ? 6 : 1, arbitrary: fc.constantFrom<'none' | 'garbage'>('none', 'garbage') },
    );

  function requestFor(op: Operation): fc.Arbitrary<FuzzRequest> {
    const params = op.operation.parameters ?? [];
    const segments = op.template
      .split('/')
      .slice(1)
      .map((seg): fc.Arbitrary<Part> => {
        const name = /^\{(.+)\}$/.exec(seg)?.[1];
        if (!name) return fc.constant({ value: seg, raw: true });
        const schema = params.find((p) => p.in === 'path' && p.name === name)?.schema ?? { type: 'string' };
        return fc.oneof({ weight: 8, arbitrary: fromAnswers(name, schema) }, { weight: 2, arbitrary: valid(schema) }, { weight: 1, arbitrary: garbageSegment });
      });
    const query = params
      .filter((p) => p.in === 'query')
      .map((p) => {
        const value = fc.oneof({ weight: 3, arbitrary: valid(p.schema) }, { weight: 2, arbitrary: fromAnswers(p.name, p.schema) }, { weight: 1, arbitrary: wrong(p.schema) });
        const sometimes = p.required ? value : fc.oneof(value, fc.constant(undefined));
        return sometimes.map((v) => (v === undefined ? null : ([p.name, v] as [string, Part])));
      });
    // Now and then a query parameter the operation does not take.
    const extraQuery = fc.oneof({ weight: 12, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: fc.tuple(printable(10), printable(10)).map(([k, v]): [string, Part] => [k || 'x', given(v, true)]) });
    const header = (name: string) => params.find((p) => p.in === 'header' && p.name.toLowerCase() === name);
    const ifMatch = header('if-match')
      ? fc.oneof(
          { weight: 4, arbitrary: fc.constant(undefined) },
          { weight: 3, arbitrary: fc.nat().map((pick): Part => ({ keys: ['revision'], fallback: [], schema: { type: 'integer' }, pick, otherwise: 1, quote: true })) },
          { weight: 1, arbitrary: fc.constantFrom('*', 'W/"1"').map((v) => given(v)) },
          { weight: 1, arbitrary: printable(20).map((v) => given(v, true)) },
        )
      : fc.constant(undefined);
    const keySchema = header('idempotency-key')?.schema;
    const idempotencyKey = keySchema
      ? fc.oneof({ weight: 4, arbitrary: fc.constant(undefined) }, { weight: 4, arbitrary: valid(keySchema) }, { weight: 1, arbitrary: printable(220).map((v) => given(v, true)) })
      : fc.constant(undefined);
    const bodySchema = op.operation.requestBody?.content['application/json']?.schema;
    const body = bodySchema ? bodyFor(bodySchema, op.operation.requestBody?.required ?? false) : fc.constant(undefined);

    return fc
      .record({
        path: fc.tuple(...segments),
        query: fc.tuple(...query),
        extraQuery,
        ifMatch,
        idempotencyKey,
        body,
        auth: role(op.operation['x-rewind-role'], (op.operation.security ?? []).length === 0),
      })
      .map((r): FuzzRequest => {
        const headers: Record<string, Part> = {};
        if (r.ifMatch !== undefined) headers['if-match'] = r.ifMatch;
        if (r.idempotencyKey !== undefined) headers['idempotency-key'] = r.idempotencyKey;
        if (r.body !== undefined) headers['content-type'] = given('application/json');
        const query = [...r.query, r.extraQuery].filter((x): x is [string, Part] => x !== null);
        return { key: op.key, random: false, method: op.verb, path: r.path, query, headers, auth: r.auth, body: r.body };
      });
  }

  /** A body valid for the schema, or one mutation away from it: a field missing, unknown or of the wrong type; not an object; not JSON. */
  function bodyFor(schema: JsonSchema, required: boolean): fc.Arbitrary<BodyPart | undefined> {
    const properties = (schema.properties ?? {}) as Record<string, JsonSchema>;
    const names = Object.keys(properties);
    const requiredNames = (schema.required ?? []) as string[];
    const validBody = schemas.valid(schema) as fc.Arbitrary<Record<string, unknown>>;
    const invalid: Array<fc.Arbitrary<string | undefined>> = [
      fc.tuple(validBody, printable(12).filter((k) => !(k in properties)), fc.jsonValue({ maxDepth: 1 })).map(([v, k, x]) => JSON.stringify({ ...v, [k || '_']: x })),
      fc.oneof(fc.jsonValue({ maxDepth: 2 }).filter((v) => typeof v !== 'object' || v === null || Array.isArray(v)), fc.constant([])).map((v) => JSON.stringify(v)),
      fc.oneof(anyText(200), fc.constantFrom('{', '{"a":', '\u0000', '{"__proto__": {"x": 1}}')),
    ];
    if (names.length > 0) {
      invalid.push(fc.tuple(validBody, fc.constantFrom(...names)).chain(([v, name]) => schemas.wrongFor(properties[name]!).map((x) => JSON.stringify({ ...v, [name]: x }))));
    }
    if (requiredNames.length > 0) {
      invalid.push(fc.tuple(validBody, fc.constantFrom(...requiredNames)).map(([v, name]) => JSON.stringify(Object.fromEntries(Object.entries(v).filter(([k]) => k !== name)))));
    }
    if (required) invalid.push(fc.constant(undefined));
    return fc.oneof(
      {
        weight: 4,
        arbitrary: fc
          .tuple(validBody, fc.record(Object.fromEntries(names.map((name) => [name, fromAnswers(name, properties[name]!) as fc.Arbitrary<Aimed>])), { requiredKeys: [] }))
          .map(([object, aim]): BodyPart => ({ object, aim: aim as Record<string, Aimed> })),
      },
      // No body stands for `{}` where nothing is required.
      { weight: required ? 0 : 1, arbitrary: fc.constant(undefined) },
      { weight: 2, arbitrary: fc.oneof(...invalid).map((text): BodyPart => ({ value: text, bad: true })) },
    );
  }

  /** Requests the document does not describe: other verbs and paths, odd headers and bodies. */
  const fieldNames = [...new Set(routes.flatMap((r) => [...r.fields.keys()]))];
  const randomRequest: fc.Arbitrary<FuzzRequest> = fc
    .record({
      method: fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD'),
      path: fc.oneof(
        fc.constantFrom(...operations).map((op) => op.template.replace(/\{[^}]+\}/g, 'x')),
        fc.webPath(),
        fc.constantFrom('/health', '/metrics', '/api/v1/tokens', '/api/v1/tokens/x', '/api/v1/whoami', '/api/v1/events/stream', '/', '//x', '/api/v1/', '/demo/inspect'),
      ),
      query: fc.array(fc.tuple(fc.oneof(fc.constantFrom(...fieldNames), printable(8)), printable(12)), { maxLength: 3 }),
      body: fc.option(fc.oneof(fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)), anyText(200)), { nil: undefined }),
      contentType: fc.constantFrom('application/json', 'text/plain', 'application/merge-patch+json', 'multipart/form-data; boundary=x', 'application/json; charset=latin1'),
      auth: fc.constantFrom<Role | 'none' | 'garbage'>('admin', 'operator', 'viewer', 'none', 'garbage'),
    })
    .map(
      (r): FuzzRequest => ({
        key: 'undocumented',
        random: true,
        method: r.method,
        path: r.path
          .split('/')
          .slice(1)
          .map((value) => ({ value, raw: true })),
        query: r.query.map(([k, v]) => [k, given(v)]),
        headers: r.body === undefined ? {} : { 'content-type': given(r.contentType) },
        auth: r.auth,
        body: r.body === undefined || r.method === 'GET' || r.method === 'HEAD' ? undefined : { value: r.body, bad: true },
      }),
    );

  const request = fc.oneof({ weight: 12, arbitrary: fc.constantFrom(...operations).chain(requestFor) }, { weight: 1, arbitrary: randomRequest });

  const tally = new Map<string, Tally>([...operations.map((op) => op.key), 'undocumented'].map((key) => [key, { cases: 0, valid: 0, ok: 0, refused: 0, codes: new Map() }]));

  /** Sends one request and checks its answer; what the answer named feeds later requests. */
  async function send(r: FuzzRequest): Promise<void> {
    const path = `/${r.path.map((p) => ('value' in p && p.raw ? String(p.value) : encodeURIComponent(asText(resolve(p))))).join('/')}`;
    const qs = new URLSearchParams(r.query.map(([k, v]) => [k, asText(resolve(v))])).toString();
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(r.headers)) headers[k] = 'quote' in v && v.quote ? `"${asText(resolve(v))}"` : asText(resolve(v));
    if (r.auth === 'garbage') headers.authorization = 'Bearer not-a-token';
    else if (r.auth !== 'none') headers.authorization = `Bearer ${tokens[r.auth]}`;
    const body = r.body === undefined ? undefined : bodyText(r.body);
    const res = await fetch(`${s.url}${path}${qs ? `?${qs}` : ''}`, {
      method: r.method,
      headers,
      redirect: 'manual',
      // A request that never ends is a finding too: it fails here rather than hanging the run.
      signal: AbortSignal.timeout(30_000),
      ...(body === undefined ? {} : { body }),
    });
    const text = await res.text();
    // What was asked, as sent: the URL parser resolves `..` and `.` segments before the request leaves.
    const sent = new URL(res.url).pathname;
    const where = `${r.method} ${sent}${qs ? `?${qs}` : ''} (${r.key}, as ${r.auth}) → ${res.status}: ${text.slice(0, 400)}`;
    const row = tally.get(r.key)!;
    row.cases += 1;
    if (!r.random && ![...r.path, ...r.query.map(([, v]) => v), ...Object.values(r.headers), r.body].some(isBad)) row.valid += 1;
    if (res.status < 300) row.ok += 1;
    else row.refused += 1;

    expect(res.status, where).toBeLessThan(500);
    expect(checker.problems(r.method, sent, res.status, res.headers.get('content-type'), text), where).toEqual([]);
    if (res.status >= 400 && r.method !== 'HEAD') {
      const error = (JSON.parse(text) as { error: { code: ErrorCode; hint: string } }).error;
      expect(Object.keys(errorCodes), where).toContain(error.code);
      expect(httpStatusOf(error.code), where).toBe(res.status);
      expect(error.hint.length, where).toBeGreaterThan(0);
      row.codes.set(error.code, (row.codes.get(error.code) ?? 0) + 1);
    }
    if (res.status < 300 && r.method !== 'HEAD' && (res.headers.get('content-type') ?? '').includes('json')) harvest(JSON.parse(text));
    // A revoked role token (DELETE /api/v1/tokens/{id} with an id a list named) is issued again, so the run keeps its reach.
    if (res.status === 401 && r.auth !== 'none' && r.auth !== 'garbage' && !(await s.tokenStore.verify(tokens[r.auth]))) {
      tokens[r.auth] = (await s.tokenStore.issue({ name: uniqueName(r.auth), role: r.auth, createdBy: 'test' })).token;
    }
  }

  return { operations, request, send, tally, harvest };
}
