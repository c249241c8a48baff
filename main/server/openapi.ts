import { z } from 'zod';
import { type BackendMethod, authDiscoverySchema, backendMethodNames, backendMethods, eventTypes, reviewRequestedSchema, rewindErrorSchema } from '../../preload/contract/index.js';
import { MAX_DEMO_BATCH, inspectionReportSchema } from '../engine/demo/inspection.js';
import { PROTOCOL_VERSION, healthSchema, serverRoutes, tokenCreateInputSchema, tokenCreatedSchema, tokenInfoSchema, tokenListSchema, whoamiSchema } from '../protocol/wire.js';

/*
 * The OpenAPI 3.1 document of a workflow server, generated from the contract (each backend method's
 * route, zod schemas and least role) and from protocol.ts (the server-only routes): there is no
 * second list of routes to drift. OpenAPI 3.1 schemas are JSON Schema 2020-12, which is what zod 4's
 * `z.toJSONSchema()` writes.
 */

type JsonSchema = Record<string, unknown>;
type Operation = Record<string, unknown>;

type ToSchema = (schema: z.ZodType, io: 'input' | 'output') => JsonSchema;

/**
 * zod's JSON Schema for one schema, with its local definitions (recursive types such as JSON values)
 * moved to `components/schemas` under unique names: a `#/$defs/…` ref means nothing inside an OpenAPI operation.
 */
function schemaConverter(components: Record<string, JsonSchema>): ToSchema {
  let next = 0;
  return (schema, io) => {
    // Transforms and the like have no JSON Schema: they are described as "any value" rather than refused.
    const { $schema: _dialect, $defs, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as JsonSchema;
    const names = new Map<string, string>();
    for (const key of Object.keys(($defs ?? {}) as object)) names.set(`#/$defs/${key}`, `#/components/schemas/Def${next++}`);
    const relink = (value: unknown): unknown => {
      if (Array.isArray(value)) return value.map(relink);
      if (typeof value !== 'object' || value === null) return value;
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, k === '$ref' && typeof v === 'string' ? (names.get(v) ?? v) : relink(v)]));
    };
    for (const [key, def] of Object.entries(($defs ?? {}) as Record<string, unknown>)) {
      components[names.get(`#/$defs/${key}`)!.slice('#/components/schemas/'.length)] = relink(def) as JsonSchema;
    }
    return relink(rest) as JsonSchema;
  };
}

const errorResponse = { $ref: '#/components/responses/Error' };
const json = (schema: JsonSchema) => ({ 'application/json': { schema } });

/** `/api/v1/workflows/:workflow_id` → `/api/v1/workflows/{workflow_id}`. */
function openApiPath(path: string): string {
  return path.replace(/:([A-Za-z_][A-Za-z0-9_]*)/g, '{$1}');
}

function methodOperation(name: BackendMethod, jsonSchema: ToSchema): { path: string; verb: string; operation: Operation } {
  const spec = backendMethods[name];
  const input = jsonSchema(spec.input as z.ZodType, 'input');
  const properties = (input.properties ?? {}) as Record<string, JsonSchema>;
  const required = new Set((input.required ?? []) as string[]);
  const inPath = new Set([...spec.http.path.matchAll(/:([A-Za-z_][A-Za-z0-9_]*)/g)].map((m) => m[1] as string));
  const parameters: Array<Record<string, unknown>> = [];
  const body: Record<string, JsonSchema> = {};
  for (const [field, schema] of Object.entries(properties)) {
    if (inPath.has(field)) parameters.push({ name: field, in: 'path', required: true, schema });
    else if (field === 'expected_revision') {
      parameters.push({
        name: 'If-Match',
        in: 'header',
        required: false,
        description: 'The workflow revision this change is based on (e.g. "7"); a stale one is refused with 412 and the current state.',
        schema: { type: 'string' },
      });
    } else if (spec.http.method === 'GET') parameters.push({ name: field, in: 'query', required: required.has(field), schema });
    else body[field] = schema;
  }
  if (spec.mutates) {
    parameters.push({
      name: 'Idempotency-Key',
      in: 'header',
      required: false,
      description: 'Makes a retried mutation apply once: send a fresh key per logical request, the same one on its retries.',
      schema: { type: 'string', pattern: '^[\\x21-\\x7e]{1,200}$' },
    });
  }
  const operation: Operation = {
    operationId: name.replace(':', '_'),
    summary: spec.summary,
    description: `${spec.summary}\n\nLeast role: ${spec.role}.`,
    tags: [name.split(':')[0]],
    'x-rewind-method': name,
    'x-rewind-role': spec.role,
    security: [{ bearerAuth: [] }],
    ...(parameters.length > 0 ? { parameters } : {}),
    responses: {
      [String(spec.http.status ?? 200)]: {
        description: spec.http.status === 201 ? 'Created.' : 'Success.',
        content: json(jsonSchema(spec.output as z.ZodType, 'output')),
        ...('as_of' in properties ? { headers: { 'X-Rewind-As-Of': { description: 'Sent on an as-of read: the event seq the answer stands as of (also its as_of_seq).', schema: { type: 'integer' } } } } : {}),
      },
      ...('reviewable' in spec.http
        ? { '202': { description: 'Sent for review (a server started with --require-review): nothing changed yet; another person approves or declines it at /api/v1/reviews/{review_id}.', content: json(jsonSchema(reviewRequestedSchema, 'output')) } }
        : {}),
      '4XX': errorResponse,
      '5XX': errorResponse,
    },
  };
  if (spec.http.method !== 'GET') {
    const bodyRequired = [...required].filter((f) => f in body);
    operation.requestBody = {
      required: bodyRequired.length > 0,
      content: json({ type: 'object', properties: body, ...(bodyRequired.length > 0 ? { required: bodyRequired } : {}), additionalProperties: false }),
    };
  }
  return { path: openApiPath(spec.http.path), verb: spec.http.method.toLowerCase(), operation };
}

/** The routes wire.ts declares beside the contract's: health, metrics, identity, tokens and the demo station. */
function serverOperations(jsonSchema: ToSchema): Record<string, Record<string, Operation>> {
  const ok = (description: string, schema: z.ZodType) => ({ '200': { description, content: json(jsonSchema(schema, 'output')) }, '4XX': errorResponse, '5XX': errorResponse });
  const admin = { 'x-rewind-role': 'admin', security: [{ bearerAuth: [] }], tags: ['tokens'] };
  return {
    [serverRoutes.health]: {
      get: {
        operationId: 'health',
        summary: 'Liveness, versions, the event log head and the hash chain status.',
        description: 'No token needed. 200 while the chain verified at start; 503 when the server was started with --allow-broken-chain on a broken chain (the body says where it breaks).',
        tags: ['server'],
        security: [],
        responses: { '200': { description: 'Healthy.', content: json(jsonSchema(healthSchema, 'output')) }, '503': { description: 'Degraded: read `chain`.', content: json(jsonSchema(healthSchema, 'output')) } },
      },
    },
    [serverRoutes.metrics]: {
      get: {
        operationId: 'metrics',
        summary: 'Prometheus metrics, including the event log head (rewind_event_head_seq and its hash as a label).',
        description: 'Least role: viewer.',
        tags: ['server'],
        'x-rewind-role': 'viewer',
        security: [{ bearerAuth: [] }],
        responses: { '200': { description: 'Prometheus text exposition.', content: { 'text/plain': { schema: { type: 'string' } } } }, '4XX': errorResponse },
      },
    },
    [serverRoutes.openapi]: {
      get: {
        operationId: 'openapi',
        summary: 'This document.',
        description: 'No token needed: it describes the API, not any data.',
        tags: ['server'],
        security: [],
        responses: { '200': { description: 'OpenAPI 3.1.', content: json({ type: 'object' }) } },
      },
    },
    [serverRoutes.auth]: {
      get: {
        operationId: 'auth',
        summary: 'How to sign in: API tokens, and OpenID Connect (issuer, client id, scopes, audience) when the server was started with --oidc-issuer.',
        description: 'No token needed: clients read it before they have one.',
        tags: ['server'],
        security: [],
        responses: { '200': { description: 'The sign-in methods.', content: json(jsonSchema(authDiscoverySchema, 'output')) }, '5XX': errorResponse },
      },
    },
    [serverRoutes.whoami]: {
      get: {
        operationId: 'whoami',
        summary: 'Who the caller is (the token or the signed-in person), their role, and how they came in.',
        description: 'Least role: viewer. `name` is the actor of the events the caller causes; `expires_at` is a JWT\'s expiry (null for API tokens).',
        tags: ['server'],
        'x-rewind-role': 'viewer',
        security: [{ bearerAuth: [] }],
        responses: ok('Who the token is.', whoamiSchema),
      },
    },
    [serverRoutes.tokens]: {
      get: { operationId: 'tokens_list', summary: 'Every token (never the secret).', description: 'Least role: admin.', ...admin, responses: ok('The tokens.', tokenListSchema) },
      post: {
        operationId: 'tokens_create',
        summary: 'Issue a token; the answer is the only time the secret is shown.',
        description: 'Least role: admin.',
        ...admin,
        requestBody: { required: true, content: json(jsonSchema(tokenCreateInputSchema, 'input')) },
        responses: { '201': { description: 'Issued.', content: json(jsonSchema(tokenCreatedSchema, 'output')) }, '4XX': errorResponse, '5XX': errorResponse },
      },
    },
    [serverRoutes.demoInspect]: {
      get: {
        operationId: 'demo_inspect',
        summary: "The demo inspection station: a sampled batch's measurement (the demo's line-inspection workflow calls it).",
        description: 'No token needed. Served only by a server started with --demo; any other server answers 404.',
        tags: ['server'],
        security: [],
        parameters: [{ name: 'batch', in: 'query', required: true, schema: { type: 'integer', minimum: 1, maximum: MAX_DEMO_BATCH } }],
        responses: ok('The batch.', inspectionReportSchema),
      },
    },
    [`${serverRoutes.tokens}/{id}`]: {
      delete: {
        operationId: 'tokens_revoke',
        summary: 'Revoke a token; its open streams are closed.',
        description: 'Least role: admin.',
        ...admin,
        parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
        responses: ok('Revoked.', tokenInfoSchema),
      },
    },
  };
}

/** The whole document; built once per server (it depends only on the contract and the version). */
export function buildOpenApiDocument(version: string): Record<string, unknown> {
  const schemas: Record<string, JsonSchema> = {};
  const jsonSchema = schemaConverter(schemas);
  const paths: Record<string, Record<string, Operation>> = serverOperations(jsonSchema);
  for (const name of backendMethodNames) {
    const { path, verb, operation } = methodOperation(name, jsonSchema);
    paths[path] = { ...paths[path], [verb]: operation };
  }
  const error = jsonSchema(z.object({ error: rewindErrorSchema }), 'output');
  return {
    openapi: '3.1.1',
    info: {
      title: 'Rewind workflow server',
      version,
      description: `Workflow versions, rollbacks, runs and checkpoints, the hash-chained event log and runbooks (protocol ${PROTOCOL_VERSION}). The live event stream is a WebSocket at ${serverRoutes.stream}?after=SEQ (same bearer token, or ?token= for browsers). Every failure answers {"error": {code, message, hint}}.`,
    },
    servers: [{ url: '/' }],
    paths,
    components: {
      securitySchemes: {
        bearerAuth: {
          type: 'http',
          scheme: 'bearer',
          description:
            'A token an admin issued (POST /api/v1/tokens, or `rewind tokens create`), or — on a server started with --oidc-issuer — a person\'s JWT from the identity provider GET /api/v1/auth names (RS256, ES256 or EdDSA; its groups give the role). Roles: viewer < operator < admin.',
        },
      },
      // The event types the log appends (an event's `type`; a webhook's `events` filter): declared once, in the contract.
      schemas: { ...schemas, Error: error, EventType: { type: 'string', enum: [...eventTypes], description: 'The type of an event of the log, as the stream and GET /api/v1/events carry it.' } },
      responses: { Error: { description: 'A typed error: `code` names it, `hint` says what to do next.', content: json({ $ref: '#/components/schemas/Error' }) } },
    },
  };
}
