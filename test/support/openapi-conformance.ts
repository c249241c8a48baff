import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';

/*
 * The contract is the answer: every HTTP answer a registered workflow server gives the test process
 * (the `api` helper, RemoteBackend, plain fetch) is checked against the OpenAPI document that same
 * server serves — the operation, a documented status, a documented content type and the schema. A
 * field the schema forbids fails the test that received it (see openapi-conformance.setup.ts).
 * Everything is derived from the served document: no list of operations here to keep up to date.
 */

type JsonSchema = Record<string, unknown>;
interface MediaType {
  schema?: JsonSchema;
}
/** An OpenAPI response object (or a `$ref` to one in components). */
interface ResponseObject {
  $ref?: string;
  content?: Record<string, MediaType>;
}
export interface OpenApiOperation {
  operationId?: string;
  parameters?: Array<{ name: string; in: 'path' | 'query' | 'header'; required?: boolean; schema: JsonSchema }>;
  requestBody?: { required?: boolean; content: Record<string, MediaType> };
  responses: Record<string, ResponseObject>;
  security?: unknown[];
  'x-rewind-role'?: 'viewer' | 'operator' | 'admin';
}
export interface OpenApiDocument {
  openapi: string;
  paths: Record<string, Record<string, OpenApiOperation>>;
  components: { schemas?: Record<string, JsonSchema>; responses?: Record<string, ResponseObject> };
}

export const httpVerbs = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'] as const;

interface CompiledPath {
  template: string;
  pattern: RegExp;
  literals: number;
  operations: Record<string, OpenApiOperation>;
}

export interface OperationMatch {
  template: string;
  verb: string;
  operation: OpenApiOperation;
}

/** The ajv `$id` the document's components live under, so each response schema can point into them. */
const documentId = 'https://rewind.invalid/openapi.json';
// ajv-formats is CommonJS: its function is the `default` of the module object.
const addFormats = addFormatsModule.default;

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** A checker for one served document: which operation a request reached, and whether the answer is one it documents. */
export class OpenApiChecker {
  readonly document: OpenApiDocument;
  private readonly ajv: Ajv2020;
  private readonly paths: CompiledPath[];
  private readonly compiled = new Map<string, ValidateFunction>();

  constructor(document: OpenApiDocument) {
    this.document = document;
    this.ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: true });
    addFormats(this.ajv);
    this.ajv.addSchema({ $id: documentId, components: document.components });
    this.paths = Object.entries(document.paths)
      .map(([template, operations]) => {
        const parts = template.split('/');
        return {
          template,
          // A `{param}` is one non-empty segment; the server also accepts one trailing slash.
          pattern: new RegExp(`^${parts.map((p) => (/^\{[^}]+\}$/.test(p) ? '[^/]+' : escapeRegExp(p))).join('/')}/?$`),
          literals: parts.filter((p) => !p.startsWith('{')).length,
          operations,
        };
      })
      // Literal segments win over parameters, as in the server's route table (`events/verify` before `{id}`).
      .sort((a, b) => b.literals - a.literals);
  }

  /** The documented operation a request reaches, or null (an undocumented path or verb). */
  match(method: string, pathname: string): OperationMatch | null {
    const verb = method.toLowerCase();
    for (const path of this.paths) {
      if (!path.pattern.test(pathname)) continue;
      const operation = path.operations[verb];
      if (operation) return { template: path.template, verb, operation };
    }
    return null;
  }

  /** The response object an operation documents for `status` (exact, then `4XX`-style, then default). */
  responseFor(operation: OpenApiOperation, status: number): ResponseObject | null {
    const found = operation.responses[String(status)] ?? operation.responses[`${String(status)[0]}XX`] ?? operation.responses.default;
    return found ? this.resolve(found) : null;
  }

  /** A compiled validator for a schema of this document (its `#/components/…` refs resolve against the document). */
  validator(schema: JsonSchema): ValidateFunction {
    const key = JSON.stringify(schema);
    let fn = this.compiled.get(key);
    if (!fn) {
      fn = this.ajv.compile(relink(schema));
      this.compiled.set(key, fn);
    }
    return fn;
  }

  /**
   * What is wrong with an answer, or an empty list. A request the document does not describe must be
   * refused with a 4xx typed error; a documented one must answer a documented status, content type and shape.
   */
  problems(method: string, pathname: string, status: number, contentType: string | null, body: string): string[] {
    const found = this.match(method, pathname);
    const media = contentType?.split(';')[0]!.trim().toLowerCase() ?? null;
    if (!found) {
      if (status < 400 || status >= 500) return [`${method} ${pathname} is not in the document, yet answered ${status} (only a 4xx refusal is expected).`];
      return this.bodyProblems({ 'application/json': { schema: { $ref: '#/components/schemas/Error' } } }, media, body, method);
    }
    const where = `${method} ${found.template} → ${status}`;
    const response = this.responseFor(found.operation, status);
    if (!response) return [`${where}: the status is not documented (documented: ${Object.keys(found.operation.responses).join(', ')}).`];
    return this.bodyProblems(response.content ?? {}, media, body, method).map((p) => `${where}: ${p}`);
  }

  private bodyProblems(content: Record<string, MediaType>, media: string | null, body: string, method: string): string[] {
    // HEAD answers carry no body, whatever a GET would.
    if (method === 'HEAD') return [];
    const documented = Object.keys(content);
    if (documented.length === 0) return body === '' ? [] : [`a body was sent where none is documented: ${body.slice(0, 200)}`];
    if (media === null || !(media in content)) return [`content type ${String(media)} is not documented (documented: ${documented.join(', ')}).`];
    const schema = content[media]!.schema;
    if (!schema) return [];
    let value: unknown = body;
    if (media === 'application/json' || media.endsWith('+json')) {
      try {
        value = JSON.parse(body);
      } catch {
        return [`the body is not JSON: ${body.slice(0, 200)}`];
      }
    }
    const validate = this.validator(schema);
    if (validate(value)) return [];
    return (validate.errors ?? []).slice(0, 8).map((e) => `${e.instancePath || '(root)'} ${e.message ?? 'is invalid'}${e.params && Object.keys(e.params).length > 0 ? ` ${JSON.stringify(e.params)}` : ''}`);
  }

  private resolve(response: ResponseObject): ResponseObject {
    if (!response.$ref) return response;
    const name = response.$ref.replace('#/components/responses/', '');
    const target = this.document.components.responses?.[name];
    if (!target) throw new Error(`The document refers to ${response.$ref}, which it does not define.`);
    return target;
  }
}

/** `#/components/…` → the same place in the registered document. */
function relink(value: unknown): JsonSchema {
  const walk = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(walk);
    if (typeof v !== 'object' || v === null) return v;
    return Object.fromEntries(Object.entries(v).map(([k, inner]) => [k, k === '$ref' && typeof inner === 'string' && inner.startsWith('#/') ? `${documentId}${inner}` : walk(inner)]));
  };
  return walk(value) as JsonSchema;
}

// --- the hook in the test client -----------------------------------------------------------------

const rawFetch: typeof fetch = globalThis.fetch;
/** Registered origins → the checker built from the document each one serves (or why it could not be read). */
const servers = new Map<string, Promise<OpenApiChecker | Error>>();
/** Checkers by document (servers of one build serve the same one; compiling it once per file is enough). */
const byDocument = new Map<string, OpenApiChecker>();
const violations: string[] = [];

/** Reads and compiles the document a server serves. */
export async function loadChecker(url: string): Promise<OpenApiChecker> {
  const res = await rawFetch(new URL('/api/v1/openapi.json', url));
  if (res.status !== 200) throw new Error(`GET /api/v1/openapi.json answered ${res.status}`);
  const document = (await res.json()) as OpenApiDocument;
  const key = JSON.stringify({ paths: document.paths, components: document.components });
  let checker = byDocument.get(key);
  if (!checker) {
    checker = new OpenApiChecker(document);
    byDocument.set(key, checker);
  }
  return checker;
}

/**
 * From now on, every answer from this server's origin is checked against its served document. The
 * harness calls it for each workflow server a test starts; a server restarted on the same port keeps it.
 */
export async function checkAnswersOf(url: string): Promise<void> {
  const { origin } = new URL(url);
  if (servers.has(origin)) return;
  // A server this process cannot read (TLS with a certificate it does not trust) gives it no answers either.
  const loading = loadChecker(origin).catch((err: unknown) => (err instanceof Error ? err : new Error(String(err))));
  servers.set(origin, loading);
  await loading;
}

/** The answers that did not match their document since the last call (the setup file fails the test with them). */
export function takeViolations(): string[] {
  return violations.splice(0, violations.length);
}

function methodOf(input: Parameters<typeof fetch>[0], init: Parameters<typeof fetch>[1]): string {
  return (init?.method ?? (input instanceof Request ? input.method : 'GET')).toUpperCase();
}

/** Wraps the global fetch once: answers from registered origins are read (from a clone) and checked before they are handed over. */
export function installConformanceHook(): void {
  if ((globalThis.fetch as { conforming?: boolean }).conforming) return;
  const conforming = async (input: Parameters<typeof fetch>[0], init?: Parameters<typeof fetch>[1]): Promise<Response> => {
    const res = await rawFetch(input, init);
    const url = new URL(res.url || (input instanceof Request ? input.url : String(input)));
    const loading = servers.get(url.origin);
    if (!loading) return res;
    const method = methodOf(input, init);
    const checker = await loading;
    const body = await res.clone().text();
    const problems =
      checker instanceof Error
        ? [`its OpenAPI document could not be read (${checker.message}), so the answer cannot be checked`]
        : checker.problems(method, url.pathname, res.status, res.headers.get('content-type'), body);
    if (problems.length > 0) {
      violations.push(`${method} ${url.pathname}${url.search.slice(0, 120)} answered ${res.status}, which its OpenAPI document does not allow:\n  ${problems.join('\n  ')}\n  body: ${body.slice(0, 300)}`);
    }
    return res;
  };
  globalThis.fetch = Object.assign(conforming, { conforming: true }) as typeof fetch;
}
