import type { Dsl, ParamType } from '../../../preload/contract/entities.js';
import { RewindError } from '../errors.js';
import { RESERVED_CONTEXT_KEYS, dotPathProblem, isReservedKey } from './paths.js';

/*
 * The run params a workflow version accepts. Each key of the run context has one owner: the
 * declared params (and the keys of `defaults`, which DSLs written before declarations used) belong
 * to the run's starter; `outputs`, `server` and `secret` to the engine and the server. A run's params
 * are checked here before anything is written, so an operator's typo or a param aimed at a reserved
 * key (`{"server": {"host": …}}` redirecting an http node) is refused with its name and the remedy.
 */

/** A param as a run sees it: declared in `params`, or a key of `defaults` typed by its value. */
export interface DeclaredParam {
  name: string;
  /** null: any JSON value (a `defaults` key whose value is null). */
  type: ParamType | null;
  required: boolean;
  /** Where it came from, for messages: `params` or `defaults`. */
  source: 'params' | 'defaults';
}

/** The JSON type of a value, as a param type names it (a whole number is an `integer`). */
export function jsonTypeOf(value: unknown): ParamType | 'null' {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  if (typeof value === 'object') return 'object';
  return typeof value as 'string' | 'boolean';
}

export function valueMatches(type: ParamType | null, value: unknown): boolean {
  if (type === null) return true;
  const got = jsonTypeOf(value);
  if (type === 'number') return (got === 'number' || got === 'integer') && Number.isFinite(value);
  return got === type;
}

/** The type a `defaults` value gives its key: numbers are `number` (an integer default takes 2.5 too). */
function typeOfDefault(value: unknown): ParamType | null {
  const t = jsonTypeOf(value);
  if (t === 'null') return null;
  return t === 'integer' ? 'number' : t;
}

/** Every param a version accepts, by name: its `params` declarations, then the other keys of its `defaults`. */
export function declaredParams(dsl: Dsl): Map<string, DeclaredParam> {
  const declared = new Map<string, DeclaredParam>();
  for (const [name, d] of Object.entries(dsl.params ?? {})) declared.set(name, { name, type: d.type, required: d.required === true, source: 'params' });
  for (const [name, value] of Object.entries(dsl.defaults)) {
    if (!declared.has(name)) declared.set(name, { name, type: typeOfDefault(value), required: false, source: 'defaults' });
  }
  return declared;
}

/** The defaults a `params` declaration gives (beneath the run's own params, beside `defaults`). */
export function paramDefaults(dsl: Dsl): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, d] of Object.entries(dsl.params ?? {})) if (d.default !== undefined) out[name] = structuredClone(d.default);
  return out;
}

const PARAM_NAME = /^[A-Za-z_][A-Za-z0-9_-]{0,63}$/;

/**
 * The first problem with a DSL's declarations, checked when it is drafted: a reserved or malformed
 * name, a required param with a default, a default given twice or not of its declared type.
 */
export function paramDeclarationProblem(dsl: Dsl): { path: string; message: string; hint: string } | null {
  for (const key of Object.keys(dsl.defaults)) {
    if (isReservedKey(key)) {
      return { path: `defaults.${key}`, message: `The DSL's defaults use the key '${key}', which is reserved: ${RESERVED_CONTEXT_KEYS.get(key)}.`, hint: `Rename the default '${key}' to something else.` };
    }
  }
  for (const [name, d] of Object.entries(dsl.params ?? {})) {
    const at = `params.${name}`;
    if (isReservedKey(name)) {
      return { path: at, message: `The DSL declares the run param '${name}', which is reserved: ${RESERVED_CONTEXT_KEYS.get(name)}.`, hint: `Name the param otherwise (reserved: ${[...RESERVED_CONTEXT_KEYS.keys()].join(', ')}).` };
    }
    if (!PARAM_NAME.test(name) || dotPathProblem(name) !== null) {
      return { path: at, message: `The run param name '${name}' is not usable as a context key.`, hint: 'A param name is a letter or _ followed by up to 63 letters, digits, _ or -.' };
    }
    const inDefaults = Object.hasOwn(dsl.defaults, name);
    if (d.required === true && (d.default !== undefined || inDefaults)) {
      return { path: at, message: `The run param '${name}' is required and has a default (${inDefaults ? `in defaults` : 'in its declaration'}): a run could never miss it.`, hint: `Drop "required": true, or drop its default.` };
    }
    if (d.default !== undefined && inDefaults) {
      return { path: `${at}.default`, message: `The run param '${name}' has a default in its declaration and in defaults.`, hint: `Give its default once: in params.${name}.default or in defaults.${name}.` };
    }
    const value = d.default !== undefined ? d.default : inDefaults ? dsl.defaults[name] : undefined;
    if (value !== undefined && !valueMatches(d.type, value)) {
      return {
        path: d.default !== undefined ? `${at}.default` : `defaults.${name}`,
        message: `The default of the run param '${name}' is ${describe(value)}, not ${article(d.type)}.`,
        hint: `Make the default ${article(d.type)}, or change the declared type.`,
      };
    }
  }
  return null;
}

/** Refuses params naming a reserved context key: whatever the version declares, a run never sets those. */
export function refuseReservedParams(params: Record<string, unknown>): void {
  for (const key of Object.keys(params)) {
    if (isReservedKey(key)) {
      throw new RewindError(
        'RESERVED_PARAM',
        `The run param '${key}' names a reserved key of the run context, which the server owns: ${RESERVED_CONTEXT_KEYS.get(key)}.`,
        `Remove '${key}' from the params; a run cannot set ${[...RESERVED_CONTEXT_KEYS.keys()].join(', ')}. Give your value another name, declared in the workflow's params.`,
        { param: key, reserved: [...RESERVED_CONTEXT_KEYS.keys()] },
      );
    }
  }
}

/**
 * Refuses run params the version does not accept. `fresh`: a run started with these params (start,
 * schedule, backfill, rehearsal), checked fully — unknown, mistyped and missing required params. A
 * resume or replay re-uses a past run's params, validated when it started (or recorded before
 * declarations existed): only reserved keys are refused there, so a replay on a version that dropped
 * a param still compares the same input.
 */
export function checkRunParams(dsl: Dsl, params: Record<string, unknown>, options: { fresh: boolean; version: number }): void {
  refuseReservedParams(params);
  if (!options.fresh) return;
  const v = `v${options.version}`;
  const declared = declaredParams(dsl);
  const known = [...declared.keys()];
  const unknown = Object.keys(params).filter((k) => !declared.has(k));
  if (unknown.length > 0) {
    const names = unknown.map((k) => `'${k}'`).join(', ');
    throw new RewindError(
      'UNKNOWN_PARAM',
      `${unknown.length === 1 ? 'The run param' : 'The run params'} ${names} ${unknown.length === 1 ? 'is' : 'are'} not declared by ${v} of this workflow.`,
      known.length === 0
        ? `${v} declares no params: start it without params, or declare them in the DSL's params (or defaults) and publish that version.`
        : `Known params: ${known.join(', ')}. Fix the name, or declare it in the DSL's params (or defaults) and publish that version.`,
      { param: unknown[0], params: unknown, known, version: options.version },
    );
  }
  for (const [name, value] of Object.entries(params)) {
    const d = declared.get(name) as DeclaredParam;
    if (!valueMatches(d.type, value)) {
      throw new RewindError(
        'INVALID_PARAM_TYPE',
        `The run param '${name}' must be ${article(d.type)} (declared by ${v}${d.source === 'defaults' ? ' through its default' : ''}); got ${describe(value)}.`,
        `Send '${name}' as ${article(d.type)}, e.g. ${JSON.stringify({ [name]: example(d.type) })}${d.type === 'string' ? ` (CLI: --params '${JSON.stringify({ [name]: 'VALUE' })}' keeps it a string)` : ` (CLI: --param ${name}=${JSON.stringify(example(d.type))})`}.`,
        { param: name, expected: d.type, got: jsonTypeOf(value), version: options.version },
      );
    }
  }
  const missing = [...declared.values()].filter((d) => d.required && !Object.hasOwn(params, d.name)).map((d) => d.name);
  if (missing.length > 0) {
    throw new RewindError(
      'MISSING_PARAM',
      `${v} of this workflow requires the run ${missing.length === 1 ? 'param' : 'params'} ${missing.map((m) => `'${m}'`).join(', ')}, and the run was not given ${missing.length === 1 ? 'it' : 'them'}.`,
      `Give the run ${missing.length === 1 ? 'a value for it' : 'values for them'}: ${missing.map((m) => `--param ${m}=…`).join(' ')} on the CLI, params ${JSON.stringify(Object.fromEntries(missing.map((m) => [m, '…'])))} in the API, or the console’s Run now form.`,
      { param: missing[0], params: missing, version: options.version },
    );
  }
}

function article(type: ParamType | null): string {
  if (type === null) return 'any value';
  return type === 'integer' || type === 'object' || type === 'array' ? `an ${type}` : `a ${type}`;
}

function example(type: ParamType | null): unknown {
  switch (type) {
    case 'string':
      return 'text';
    case 'integer':
      return 7;
    case 'number':
      return 0.5;
    case 'boolean':
      return true;
    case 'object':
      return {};
    case 'array':
      return [];
    default:
      return null;
  }
}

function describe(value: unknown): string {
  const t = jsonTypeOf(value);
  const shown = JSON.stringify(value) ?? String(value);
  const cut = shown.length > 40 ? `${shown.slice(0, 40)}…` : shown;
  return t === 'null' ? 'null' : `${article(t === 'integer' ? 'integer' : t)} (${cut})`;
}
