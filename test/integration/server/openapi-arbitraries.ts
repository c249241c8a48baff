import fc from 'fast-check';
import type { OpenApiDocument } from '../../support/openapi-conformance.js';

/*
 * fast-check arbitraries from the JSON Schemas of a served OpenAPI document (the 2020-12 subset zod
 * writes: type, const, enum, anyOf/oneOf, $ref, properties/required/additionalProperties/propertyNames,
 * items, min/max bounds, pattern, format). No maintained package maps JSON Schema 2020-12 to
 * fast-check 4 (json-schema-fast-check is a 0.0.x of 2019, zod-fast-check targets zod 3 and fast-check
 * 3), hence this small mapper. Values are valid for their schema; `wrongFor` makes ones that are not.
 */

type JsonSchema = Record<string, unknown>;

/** Beyond this nesting only required properties and minimal arrays are generated, so recursive schemas end. */
const SHALLOW_AT = 4;
const STOP_AT = 8;

/** URLs a generated request may carry point at loopback (tests reach 127.0.0.1 only) or at addresses refused before any socket opens. */
const urls = fc.oneof(
  fc.webPath().map((p) => `http://127.0.0.1:9${p}`),
  fc.constantFrom('https://127.0.0.1:1/hook', 'http://localhost:1/', 'http://169.254.169.254/latest/meta-data/', 'http://user:pass@127.0.0.1:1/x', 'http://127.0.0.1:1/?token=abc', 'ftp://127.0.0.1/x'),
);

const text = (minLength: number, maxLength: number) =>
  fc.oneof(
    { weight: 4, arbitrary: fc.string({ unit: 'grapheme-ascii', minLength, maxLength }) },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', minLength, maxLength }) },
  );

export class SchemaArbitraries {
  constructor(private readonly document: OpenApiDocument) {}

  private resolve(schema: JsonSchema): JsonSchema {
    let current = schema;
    for (let i = 0; i < 16 && typeof current.$ref === 'string'; i++) {
      const ref = current.$ref as string;
      const name = ref.replace('#/components/schemas/', '');
      const target = this.document.components.schemas?.[name];
      if (!target) throw new Error(`Unresolvable $ref ${ref}`);
      const { $ref: _ref, ...rest } = current;
      current = { ...target, ...rest };
    }
    return current;
  }

  /** A value valid for `schema`. */
  valid(schema: JsonSchema, depth = 0): fc.Arbitrary<unknown> {
    const s = this.resolve(schema);
    if ('const' in s) return fc.constant(s.const);
    if (Array.isArray(s.enum)) return fc.constantFrom(...(s.enum as unknown[]));
    const union = (s.anyOf ?? s.oneOf) as JsonSchema[] | undefined;
    if (union) {
      const { anyOf: _a, oneOf: _o, ...rest } = s;
      // Deep down, the first branch only: recursive unions (JSON values) then end.
      const branches = depth >= STOP_AT ? union.slice(0, 1) : union;
      return fc.oneof(...branches.map((b) => this.valid({ ...rest, ...b }, depth + 1)));
    }
    if (Array.isArray(s.type)) return fc.oneof(...(s.type as string[]).map((t) => this.valid({ ...s, type: t }, depth)));
    switch (s.type) {
      case 'null':
        return fc.constant(null);
      case 'boolean':
        return fc.boolean();
      case 'integer':
        return this.integer(s);
      case 'number':
        return this.number(s);
      case 'string':
        return this.string(s);
      case 'array':
        return this.array(s, depth);
      case 'object':
        return this.object(s, depth);
      default:
        // `{}`: any JSON value.
        return depth >= STOP_AT ? fc.constant(null) : fc.jsonValue({ maxDepth: 2 });
    }
  }

  /** A value of the wrong type or outside the bounds of `schema` (possibly still accepted where the schema is loose). */
  wrongFor(schema: JsonSchema): fc.Arbitrary<unknown> {
    const s = this.resolve(schema);
    const outside: Array<fc.Arbitrary<unknown>> = [fc.jsonValue({ maxDepth: 1 }), fc.constantFrom(null, '', -1, 0, 1.5, 1e308, true, [], {}, '__proto__', 'x'.repeat(300))];
    if (typeof s.maximum === 'number') outside.push(fc.constant(s.maximum + 1));
    if (typeof s.minimum === 'number') outside.push(fc.constant(s.minimum - 1));
    if (typeof s.maxLength === 'number') outside.push(fc.constant('a'.repeat(s.maxLength + 1)));
    return fc.oneof(...outside);
  }

  private integer(s: JsonSchema): fc.Arbitrary<number> {
    let min = typeof s.minimum === 'number' ? Math.ceil(s.minimum) : Number.MIN_SAFE_INTEGER;
    let max = typeof s.maximum === 'number' ? Math.floor(s.maximum) : Number.MAX_SAFE_INTEGER;
    if (typeof s.exclusiveMinimum === 'number') min = Math.max(min, Math.floor(s.exclusiveMinimum) + 1);
    if (typeof s.exclusiveMaximum === 'number') max = Math.min(max, Math.ceil(s.exclusiveMaximum) - 1);
    min = Math.max(min, Number.MIN_SAFE_INTEGER);
    max = Math.min(max, Number.MAX_SAFE_INTEGER);
    // Mostly small numbers (versions, seqs, limits that exist), sometimes anywhere in range.
    const smallMin = Math.max(min, -2);
    const smallMax = Math.min(max, Math.max(smallMin, 12));
    return fc.oneof({ weight: 3, arbitrary: fc.integer({ min: smallMin, max: smallMax }) }, { weight: 1, arbitrary: fc.integer({ min, max }) });
  }

  private number(s: JsonSchema): fc.Arbitrary<number> {
    const min = typeof s.minimum === 'number' ? s.minimum : typeof s.exclusiveMinimum === 'number' ? s.exclusiveMinimum : -1e9;
    const max = typeof s.maximum === 'number' ? s.maximum : typeof s.exclusiveMaximum === 'number' ? s.exclusiveMaximum : 1e9;
    return fc
      .double({ min, max, noNaN: true, noDefaultInfinity: true, minExcluded: typeof s.exclusiveMinimum === 'number', maxExcluded: typeof s.exclusiveMaximum === 'number' })
      .map((n) => (Object.is(n, -0) ? 0 : n));
  }

  private string(s: JsonSchema): fc.Arbitrary<string> {
    const minLength = typeof s.minLength === 'number' ? s.minLength : 0;
    const maxLength = typeof s.maxLength === 'number' ? s.maxLength : Math.max(minLength, 40);
    const fits = (v: string) => v.length >= minLength && v.length <= maxLength;
    if (s.format === 'date-time') return fc.date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date('2100-01-01T00:00:00Z'), noInvalidDate: true }).map((d) => d.toISOString());
    if (s.format === 'uri') return urls.filter(fits);
    if (typeof s.pattern === 'string') return fc.stringMatching(new RegExp(s.pattern)).filter(fits);
    return text(minLength, Math.min(maxLength, Math.max(minLength, 40)));
  }

  private array(s: JsonSchema, depth: number): fc.Arbitrary<unknown[]> {
    const minLength = typeof s.minItems === 'number' ? s.minItems : 0;
    const maxLength = depth >= SHALLOW_AT ? minLength : Math.max(minLength, Math.min(typeof s.maxItems === 'number' ? s.maxItems : 4, 4));
    const items = typeof s.items === 'object' && s.items !== null ? (s.items as JsonSchema) : {};
    return fc.array(this.valid(items, depth + 1), { minLength, maxLength });
  }

  private object(s: JsonSchema, depth: number): fc.Arbitrary<Record<string, unknown>> {
    const properties = (s.properties ?? {}) as Record<string, JsonSchema>;
    const required = new Set((s.required ?? []) as string[]);
    const keys = Object.keys(properties).filter((k) => depth < SHALLOW_AT || required.has(k));
    const known = fc.record(Object.fromEntries(keys.map((k) => [k, this.valid(properties[k]!, depth + 1)])), { requiredKeys: keys.filter((k) => required.has(k)) });
    const extra = s.additionalProperties;
    if (typeof extra !== 'object' || extra === null || depth >= SHALLOW_AT) return known;
    const names = typeof s.propertyNames === 'object' && s.propertyNames !== null ? (this.valid(s.propertyNames as JsonSchema, depth + 1) as fc.Arbitrary<string>) : text(1, 12);
    const more = fc.dictionary(names.filter((k) => !(k in properties)), this.valid(extra as JsonSchema, depth + 1), { maxKeys: 3, noNullPrototype: true });
    return fc.tuple(known, more).map(([a, b]) => ({ ...b, ...a }));
  }
}
