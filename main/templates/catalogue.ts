import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { type Dsl, type Template, type TemplateParam, type TemplateSummary, templateParamSchema } from '../../preload/contract/entities.js';
import { validateDsl } from '../engine/dsl/graph.js';
import { RewindError } from '../engine/errors.js';

/*
 * Workflow templates (seed 002): a parameterized DSL with a parameter schema, shipped in
 * assets/templates/. `{{param.NAME}}` marks where a value goes: a string that is exactly one
 * placeholder takes the value with its type (a number stays a number), a placeholder inside longer
 * text is written into it.
 */

/** The catalogue in the source tree (and beside the compiled CLI and server, two folders down as here). */
export const TEMPLATES_DIR = join(import.meta.dirname, '../../assets/templates');

const PLACEHOLDER = /\{\{\s*param\.([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g;
const WHOLE = /^\{\{\s*param\.([A-Za-z_][A-Za-z0-9_]*)\s*\}\}$/;

const templateFileSchema = z.strictObject({
  name: z.string().regex(/^[a-z0-9][a-z0-9-]{0,63}$/, 'template names are lower-case letters, digits and -'),
  version: z.number().int().positive(),
  title: z.string().min(1).max(200),
  description: z.string().max(5000).default(''),
  params: z.array(templateParamSchema).default([]),
  dsl: z.record(z.string(), z.unknown()),
});

export type ParamValue = string | number | boolean;

/** Why a value does not fit a parameter's type, or null when it does. */
function typeProblem(param: TemplateParam, value: unknown): string | null {
  switch (param.type) {
    case 'string':
      return typeof value === 'string' ? null : `must be a string, got ${describe(value)}`;
    case 'integer':
      return typeof value === 'number' && Number.isInteger(value) ? null : `must be a whole number, got ${describe(value)}`;
    case 'number':
      return typeof value === 'number' && Number.isFinite(value) ? null : `must be a number, got ${describe(value)}`;
    case 'boolean':
      return typeof value === 'boolean' ? null : `must be true or false, got ${describe(value)}`;
  }
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'string') return `the string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`;
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${String(value)}`;
}

/** Every `{{param.NAME}}` a DSL mentions. */
function placeholders(value: unknown, into = new Set<string>()): Set<string> {
  if (typeof value === 'string') for (const m of value.matchAll(PLACEHOLDER)) into.add(m[1]!);
  else if (Array.isArray(value)) for (const v of value) placeholders(v, into);
  else if (typeof value === 'object' && value !== null) for (const v of Object.values(value)) placeholders(v, into);
  return into;
}

function substitute(value: unknown, values: Readonly<Record<string, ParamValue>>): unknown {
  if (typeof value === 'string') {
    const whole = WHOLE.exec(value);
    if (whole) return values[whole[1]!];
    return value.replace(PLACEHOLDER, (_, name: string) => String(values[name]));
  }
  if (Array.isArray(value)) return value.map((v) => substitute(v, values));
  if (typeof value === 'object' && value !== null) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, substitute(v, values)]));
  return value;
}

/** A template file as loaded: refused at load when its schema or placeholders are inconsistent. */
function parseTemplateFile(file: string, text: string): Template {
  const parsed = templateFileSchema.safeParse(parseYaml(text));
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new Error(`Template ${file}: field ${issue.path.join('.') || '(top level)'}: ${issue.message}`);
  }
  const t = parsed.data;
  const declared = new Set(t.params.map((p) => p.name));
  if (declared.size !== t.params.length) throw new Error(`Template ${file}: a parameter is declared twice.`);
  for (const used of placeholders(t.dsl)) if (!declared.has(used)) throw new Error(`Template ${file}: {{param.${used}}} names no declared parameter.`);
  for (const p of t.params) {
    if (p.default !== undefined && typeProblem(p, p.default)) throw new Error(`Template ${file}: the default of ${p.name} ${typeProblem(p, p.default)!}.`);
  }
  return t;
}

/** The templates of a folder, by name; read once per catalogue. */
export class TemplateCatalogue {
  private loaded: Map<string, Template> | null = null;

  constructor(private readonly dir: string = TEMPLATES_DIR) {}

  private all(): Map<string, Template> {
    if (this.loaded) return this.loaded;
    const map = new Map<string, Template>();
    let files: string[];
    try {
      files = readdirSync(this.dir).filter((f) => /\.ya?ml$/.test(f)).sort();
    } catch {
      // A packaged app may ship no catalogue: then there are no templates, not a failure.
      files = [];
    }
    for (const f of files) {
      const t = parseTemplateFile(f, readFileSync(join(this.dir, f), 'utf8'));
      map.set(t.name, t);
    }
    this.loaded = map;
    return map;
  }

  list(): TemplateSummary[] {
    return [...this.all().values()].map(({ dsl: _dsl, ...summary }) => summary);
  }

  get(name: string): Template {
    const t = this.all().get(name);
    if (!t) {
      const known = [...this.all().keys()];
      throw new RewindError(
        'TEMPLATE_NOT_FOUND',
        `No template is named "${name}".`,
        known.length ? `The templates: ${known.join(', ')} (\`rewind templates\`).` : 'This installation ships no templates.',
        { template: name },
      );
    }
    return t;
  }

  /**
   * The DSL a template gives with these values: every unknown, missing or mistyped parameter is
   * named in one refusal (nothing is created), defaults fill the rest.
   */
  instantiate(name: string, given: Readonly<Record<string, unknown>>): { template: Template; dsl: Dsl; values: Record<string, ParamValue> } {
    const template = this.get(name);
    const problems: Array<{ param: string; problem: string }> = [];
    const byName = new Map(template.params.map((p) => [p.name, p]));
    for (const key of Object.keys(given)) if (!byName.has(key)) problems.push({ param: key, problem: 'is not a parameter of this template' });
    const values: Record<string, ParamValue> = {};
    for (const p of template.params) {
      const value = given[p.name];
      if (value === undefined) {
        if (p.default !== undefined) values[p.name] = p.default;
        else problems.push({ param: p.name, problem: p.required ? 'is required' : 'has no value and no default' });
        continue;
      }
      const problem = typeProblem(p, value);
      if (problem) problems.push({ param: p.name, problem });
      else values[p.name] = value as ParamValue;
    }
    if (problems.length > 0) {
      throw new RewindError(
        'INVALID_TEMPLATE_PARAMS',
        `Template "${name}": ${problems.map((p) => `${p.param} ${p.problem}`).join('; ')}.`,
        `Its parameters: ${template.params.map((p) => `${p.name} (${p.type}${p.required ? ', required' : ''})`).join(', ')}. See \`rewind templates show ${name}\`.`,
        { template: name, problems },
      );
    }
    return { template, dsl: validateDsl(substitute(template.dsl, values)), values };
  }
}
