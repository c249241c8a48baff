import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { Backend } from '../backends/backend.js';
import type { EngineBackend } from '../backends/engine-backend.js';
import type { RemoteBackend } from '../backends/remote/index.js';
import { declaredParams } from '../engine/dsl/run-params.js';
import { RewindError, toErrorData } from '../engine/errors.js';
import { sqliteOpenFailure } from '../engine/store/sqlite/errors.js';
import { type TokenInfo, tokenCreatedSchema, tokenListSchema, tokenInfoSchema } from '../protocol/wire.js';
import type { BackendMethod, CanarySpec, ErrorCode, MethodInput, MethodOutput } from '../../preload/contract/index.js';
import { actionText, approvalsList, checkpointsTable, eventLine, healthTable, prunedNote, reviewAnswerText, reviewsTable, runDetail, runsTable, table, terminalSafe, versionsTable, workflowDetail, workflowsTable } from './format.js';
import { type CliIo, type Verb, defaultSandboxPath, exitCodes, parseCommandLine, preflight, report } from './preflight.js';
import { changesVerb } from './changes.js';
import { verifyLog } from './verify.js';
import { archiveExport, archiveOpen, prune } from './archive.js';

export { type CliIo, defaultSandboxPath, exitCodes, usage } from './preflight.js';

const usageCodes = new Set<ErrorCode>(['VALIDATION_FAILED', 'MALFORMED_REQUEST', 'STORE_UNUSABLE', 'INVALID_CODE_FILE']);
const connectionCodes = new Set<ErrorCode>(['UNREACHABLE', 'TIMEOUT', 'TLS_FAILED', 'UNAUTHORIZED', 'FORBIDDEN', 'PROTOCOL_MISMATCH', 'NO_ROLE', 'SIGN_IN_FAILED', 'OIDC_UNAVAILABLE']);

export function exitCodeOf(code: ErrorCode): number {
  if (usageCodes.has(code)) return exitCodes.usage;
  if (connectionCodes.has(code)) return exitCodes.unreachable;
  return exitCodes.refused;
}

type Values = ReturnType<typeof parseCommandLine>['values'];

function usageError(message: string, hint = 'Run `rewind --help` for the verbs and their arguments.'): RewindError {
  return new RewindError('VALIDATION_FAILED', message, hint);
}

function int(value: string | undefined, what: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^-?\d+$/.test(value)) throw usageError(`${what} must be a whole number; got "${value}".`);
  return Number(value);
}

/** A number option as given (zod judges its range, so the refusal names the field). */
function num(value: string | undefined, what: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n)) throw usageError(`${what} must be a number; got "${value}".`);
  return n;
}

/** `publish --canary PERCENT …`: the canary body of the publish route, or nothing without --canary. */
function canarySpec(values: Values): CanarySpec | undefined {
  if (values.canary === undefined) {
    const stray = (['min-runs', 'max-failure-rate', 'max-p95-ms', 'verdict', 'window-runs', 'promote'] as const).find((k) => values[k] !== undefined);
    if (stray) throw usageError(`--${stray} belongs to a canary publish.`, 'Add --canary PERCENT, or leave the option out to publish outright.');
    return undefined;
  }
  if (values['min-runs'] === undefined || values['max-failure-rate'] === undefined) {
    throw usageError('A canary publish needs --min-runs and --max-failure-rate.', 'e.g. publish WF 3 --canary 10 --min-runs 20 --max-failure-rate 0.05');
  }
  let verdict: CanarySpec['verdict'];
  if (values.verdict !== undefined) {
    const m = /^([^=]+)=([^:]+):(.+)$/.exec(values.verdict);
    if (!m) throw usageError(`--verdict must read KEY=VALUE:MAX_RATE; got "${values.verdict}".`, 'e.g. --verdict verdict=warning:0.2');
    verdict = { key: m[1]!, value: m[2]!, max_rate: num(m[3], 'The verdict rate')! };
  }
  const maxP95 = int(values['max-p95-ms'], '--max-p95-ms');
  const windowRuns = int(values['window-runs'], '--window-runs');
  return {
    percent: num(values.canary, '--canary')!,
    min_runs: int(values['min-runs'], '--min-runs')!,
    max_failure_rate: num(values['max-failure-rate'], '--max-failure-rate')!,
    promote: (values.promote ?? 'manual') as CanarySpec['promote'],
    ...(maxP95 === undefined ? {} : { max_p95_ms: maxP95 }),
    ...(windowRuns === undefined ? {} : { window_runs: windowRuns }),
    ...(verdict ? { verdict } : {}),
  };
}

/** `--param k=v`: numbers, booleans and null read as JSON, anything else as a string. */
function parseParams(values: Values): Record<string, unknown> {
  const params: Record<string, unknown> = {};
  if (values.params !== undefined) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(values.params);
    } catch {
      throw usageError('--params must be a JSON object.', 'e.g. --params \'{"defect_rate": 0.07}\'');
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw usageError('--params must be a JSON object.');
    Object.assign(params, parsed);
  }
  for (const pair of values.param ?? []) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw usageError(`--param takes KEY=VALUE; got "${pair}".`);
    const raw = pair.slice(eq + 1);
    let value: unknown = raw;
    try {
      const json = JSON.parse(raw) as unknown;
      if (typeof json !== 'object' || json === null) value = json;
    } catch {
      // A plain string.
    }
    params[pair.slice(0, eq)] = value;
  }
  return params;
}

/**
 * `--param k=v` for a template: each value read as its parameter's type says (a string parameter
 * keeps "007" as it is; an integer one gets 7), so the server judges the value, not the shell's quoting.
 * What does not read as its type goes as it was typed, and the server names the mismatch.
 */
function templateParams(declared: ReadonlyArray<{ name: string; type: string }>, values: Values): Record<string, unknown> {
  return typedParams(new Map(declared.map((p) => [p.name, p.type])), values);
}

/** `--param k=v` read as the declared types say (see templateParams); names with no type read as parseParams does. */
function typedParams(types: ReadonlyMap<string, string | null>, values: Values): Record<string, unknown> {
  const params = values.params === undefined ? {} : parseParams({ ...values, param: [] });
  for (const pair of values.param ?? []) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw usageError(`--param takes KEY=VALUE; got "${pair}".`);
    const key = pair.slice(0, eq);
    const raw = pair.slice(eq + 1);
    const type = types.get(key);
    if (type === 'string') params[key] = raw;
    else if ((type === 'integer' || type === 'number') && raw.trim() !== '' && Number.isFinite(Number(raw))) params[key] = Number(raw);
    else if (type === 'boolean' && (raw === 'true' || raw === 'false')) params[key] = raw === 'true';
    else if (type === 'object' || type === 'array') params[key] = jsonOr(raw);
    else if (type === undefined || type === null) Object.assign(params, parseParams({ ...values, params: undefined, param: [pair] }));
    else params[key] = raw;
  }
  return params;
}

function jsonOr(raw: string): unknown {
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    return raw;
  }
}

/**
 * `run`'s params, each `--param` read as the version it will likely run declares it (the named
 * version, else the active one): `--param order=007` stays the string "007" for a string param.
 */
async function runParams(s: Session, workflowId: string, version: number | undefined, values: Values): Promise<Record<string, unknown>> {
  if ((values.param ?? []).length === 0) return parseParams(values);
  const target = version ?? (await s.backend.call('workflows:get', { workflow_id: workflowId })).active_version;
  if (target === null) return parseParams(values);
  const dsl = (await s.backend.call('versions:get', { workflow_id: workflowId, version: target })).dsl_definition;
  return typedParams(new Map([...declaredParams(dsl).values()].map((d) => [d.name, d.type])), values);
}

function readDsl(path: string | undefined): unknown {
  if (path === undefined) return undefined;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw usageError(`Cannot read ${path}: ${err instanceof Error ? err.message : String(err)}`, 'Give the path of a DSL JSON file.');
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw usageError(`${path} is not JSON.`, 'A DSL file is JSON: {"nodes": [...], "defaults": {...}}.');
  }
}

interface Session {
  backend: Backend;
  remote: RemoteBackend | null;
  /** The server URL or the sandbox file's absolute path. */
  source: string;
  json: boolean;
  revision: number | undefined;
  out: (text: string) => void;
  io: CliIo;
}

/*
 * The backends load on demand: a remote verb never loads SQLite and the engine, a sandbox verb never
 * loads the WebSocket client.
 */
async function connect(values: Values, io: CliIo): Promise<{ backend: Backend; remote: RemoteBackend | null; source: string }> {
  const server = values.server ?? (io.env.REWIND_SERVER || undefined);
  if (server !== undefined && values.db !== undefined) throw usageError('--server and --db exclude each other.', 'Pick the server or the local sandbox.');
  if (server !== undefined && values['code-dir'] !== undefined) {
    throw usageError('--code-dir works on the local sandbox; a workflow server follows its own code folder.', 'Start the server with `npm run server -- --code-dir DIR`, or drop --server to use the sandbox.');
  }
  if (server !== undefined && (values.live || values['allow-commands'])) {
    throw usageError(`${values.live ? '--live' : '--allow-commands'} is for the local sandbox: a server runs real work as it was started.`, 'Drop the flag, or drop --server (and REWIND_SERVER) to use the sandbox.');
  }
  if (values['allow-commands'] && !values.live) throw usageError('--allow-commands goes with --live.', 'Pass --live --allow-commands to run command nodes for real in the sandbox.');
  if (server !== undefined) {
    const timeoutMs = int(values.timeout, '--timeout');
    const { RemoteBackend } = await import('../backends/remote/index.js');
    // REWIND_TOKEN wins (automation); else the person's own `rewind login`.
    const token = io.env.REWIND_TOKEN || (await signedIn(server, io));
    const remote = new RemoteBackend({ url: server, token, ...(timeoutMs === undefined ? {} : { timeoutMs }) });
    return { backend: remote, remote, source: remote.baseUrl };
  }
  const explicit = values.db ?? (io.env.REWIND_SANDBOX || undefined);
  const path = resolve(explicit ?? defaultSandboxPath(io.env));
  if (explicit === undefined) {
    // Rewind's own per-user folder: made on first use, as the console makes it.
    mkdirSync(dirname(path), { recursive: true });
  } else if (!isFolder(dirname(path))) {
    // A mistyped path must not quietly grow folders (and a sandbox nobody will find again).
    throw usageError(`The folder ${dirname(path)} does not exist, so the sandbox ${path} cannot be created there.`, `Check the --db path, or create the folder first (mkdir -p ${dirname(path)}).`);
  }
  const created = !existsSync(path);
  const demo = !values['no-demo'];
  // `events --follow` keeps the sandbox open like the console does: its schedules fire meanwhile, and its code folder is followed.
  const backend = await openSandboxExplained(path, demo, values.follow, values['code-dir'], { liveExecution: values.live, runCommands: values['allow-commands'] }, io);
  if (created) io.stderr(demo ? `rewind: created the sandbox ${path} with the demo workflows (--no-demo for an empty one).` : `rewind: created the empty sandbox ${path}.`);
  return { backend, remote: null, source: path };
}

/** The cached sign-in of `server`, or the usage error that says how to get one. */
async function signedIn(server: string, io: CliIo): Promise<import('../sign-in/session.js').OidcSession> {
  let url: URL;
  try {
    url = new URL(server);
  } catch {
    throw usageError(`"${server}" is not a URL.`, 'Give the server as http(s)://host:port.');
  }
  const { cachedSession } = await import('./sign-in.js');
  const session = await cachedSession(url.href, io);
  if (!session) {
    throw usageError(`You are not signed in to ${url.origin}, and REWIND_TOKEN is not set.`, `Run \`rewind login --server ${url.origin}\` (people), or export REWIND_TOKEN=<token> (automation; an admin issues one with \`rewind tokens create\`).`);
  }
  return session;
}

/** A file that is no usable database is the operator's to fix: say what is wrong and what to do (exit 2). */
async function openSandboxExplained(
  path: string,
  demo: boolean,
  runSchedules: boolean,
  codeDir: string | undefined,
  live: { liveExecution: boolean; runCommands: boolean },
  io: CliIo,
): Promise<Backend> {
  const { openSandbox } = await import('../backends/engine-backend.js');
  try {
    return await openSandbox({ path, demo, runSchedules, ...live, ...(codeDir === undefined ? {} : { codeDir, codeLog: (_level, message) => io.stderr(`rewind: ${message}`) }) });
  } catch (err) {
    throw sqliteOpenFailure(err, path) ?? err;
  }
}

function isFolder(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** A workflow named by id, or by name when that is unambiguous. */
async function resolveWorkflow(s: Session, ref: string | undefined): Promise<string> {
  if (!ref) throw usageError('Name the workflow (its id or name).');
  try {
    return (await s.backend.call('workflows:get', { workflow_id: ref })).id;
  } catch (err) {
    if (!(err instanceof RewindError) || err.code !== 'WORKFLOW_NOT_FOUND') throw err;
  }
  const matches = (await s.backend.call('workflows:list', { query: ref })).workflows.filter((w) => w.name === ref);
  if (matches.length === 1) return matches[0]!.id;
  if (matches.length > 1) {
    throw usageError(`"${ref}" names ${matches.length} workflows (${matches.map((w) => `${w.source_type} ${w.id}`).join(', ')}).`, 'Give the id instead.');
  }
  throw new RewindError('WORKFLOW_NOT_FOUND', `No workflow has the id or name "${ref}".`, 'Run `rewind workflows` to list them.');
}

function need(positionals: string[], index: number, what: string): string {
  const v = positionals[index];
  if (v === undefined) throw usageError(`Missing ${what}.`);
  return v;
}

function versionArg(positionals: string[], index: number): number {
  const raw = need(positionals, index, 'the version number');
  return int(raw.replace(/^v/i, ''), 'The version')!;
}

async function call<M extends BackendMethod>(s: Session, method: M, input: MethodInput<M>): Promise<MethodOutput<M>> {
  return s.backend.call(method, input);
}

function print(s: Session, value: unknown, human: () => string): void {
  s.out(s.json ? JSON.stringify(value, null, 2) : human());
}

function revision(s: Session): { expected_revision?: number } {
  return s.revision === undefined ? {} : { expected_revision: s.revision };
}

async function runVerb(s: Session, verb: Verb, args: string[], v: Values): Promise<number> {
  switch (verb) {
    case 'workflows': {
      const out = await call(s, 'workflows:list', v.query === undefined ? {} : { query: v.query });
      print(s, out, () => (out.total === 0 ? 'No workflows.' : workflowsTable(out.workflows)));
      return 0;
    }
    case 'get': {
      const out = await call(s, 'workflows:get', { workflow_id: await resolveWorkflow(s, args[0]) });
      print(s, out, () => workflowDetail(out));
      return 0;
    }
    case 'register': {
      if (!v.name) throw usageError('register needs --name.');
      if (v.template !== undefined) {
        if (v.dsl !== undefined || v.code) throw usageError('--template gives the definition: it goes without --dsl and --code.');
        const template = await call(s, 'templates:get', { template: v.template });
        const out = await call(s, 'templates:instantiate', {
          template: v.template,
          name: v.name,
          params: templateParams(template.params, v),
          ...(v.description === undefined ? {} : { description: v.description }),
        });
        print(s, out, () => `Registered ${out.name} (${out.id}) from template ${v.template} v${template.version}, v${out.active_version} active.`);
        return 0;
      }
      const dsl = readDsl(v.dsl);
      const out = await call(s, 'workflows:create', {
        name: v.name,
        ...(dsl === undefined ? {} : { dsl: dsl as never }),
        ...(v.schedule === undefined ? {} : { schedule: v.schedule }),
        ...(v.description === undefined ? {} : { description: v.description }),
        source_type: v.code ? 'CODE' : 'MANUAL',
      });
      print(s, out, () => `Registered ${out.name} (${out.id})${out.active_version === null ? '' : `, v${out.active_version} active`}.`);
      return 0;
    }
    case 'clone': {
      const out = await call(s, 'workflows:clone', { workflow_id: await resolveWorkflow(s, args[0]), ...(v.name === undefined ? {} : { name: v.name }) });
      print(s, out, () => `Cloned into ${out.name} (${out.id}), v${out.active_version} active; it starts ${out.status}: \`rewind unpause ${out.id}\` when it should run.`);
      return 0;
    }
    case 'unregister': {
      const out = await call(s, 'workflows:unregister', { workflow_id: await resolveWorkflow(s, args[0]), cancel_running: v['cancel-running'], ...revision(s) });
      print(s, out, () =>
        [
          `Unregistered ${out.workflow.name} (${out.workflow.id}); its versions, runs and events stay for the record.`,
          out.cancelled_runs.length ? `Cancelled ${out.cancelled_runs.length} run(s) in flight: ${out.cancelled_runs.join(', ')}.` : '',
          out.reactivated ? `The MANUAL ${out.reactivated.name} (${out.reactivated.id}) it overrode is ${out.reactivated.status} again.` : '',
        ]
          .filter(Boolean)
          .join('\n'),
      );
      return 0;
    }
    case 'templates': {
      if (args[0] === undefined) {
        const out = await call(s, 'templates:list', {});
        print(s, out, () =>
          out.templates.length === 0
            ? 'No templates.'
            : table(
                ['NAME', 'VERSION', 'TITLE', 'PARAMETERS'],
                out.templates.map((tp) => [tp.name, `v${tp.version}`, tp.title, tp.params.map((p) => `${p.name}${p.required ? '*' : ''}`).join(', ')]),
              ),
        );
        return 0;
      }
      if (args[0] !== 'show') throw usageError('templates takes no argument, or show NAME.');
      const out = await call(s, 'templates:get', { template: need(args, 1, 'the template name') });
      print(s, out, () =>
        [
          `${out.title} (${out.name} v${out.version})`,
          out.description,
          table(
            ['PARAMETER', 'TYPE', 'REQUIRED', 'DEFAULT', 'DESCRIPTION'],
            out.params.map((p) => [p.name, p.type, p.required ? 'yes' : '', p.default === undefined ? null : JSON.stringify(p.default), p.description]),
          ),
          `rewind register --template ${out.name} --name NAME${out.params.filter((p) => p.required).map((p) => ` --param ${p.name}=…`).join('')}`,
        ].join('\n'),
      );
      return 0;
    }
    case 'pause':
    case 'unpause': {
      const out = await call(s, verb === 'pause' ? 'workflows:pause' : 'workflows:unpause', { workflow_id: await resolveWorkflow(s, args[0]), ...revision(s) });
      print(s, out, () => `${out.name} is ${out.status} (revision ${out.revision}).`);
      return 0;
    }
    case 'schedule': {
      const id = await resolveWorkflow(s, args[0]);
      if (!v.clear && args[1] === undefined) throw usageError('schedule needs a cron expression, or --clear.');
      const { scheduleVerb } = await import('./schedules.js');
      return scheduleVerb(scheduleContext(s), id, v.clear ? null : args[1]!, scheduleOptions(v), revision(s));
    }
    case 'backfill':
    case 'history': {
      const id = await resolveWorkflow(s, args[0]);
      const { backfillVerb, historyVerb } = await import('./schedules.js');
      return (verb === 'backfill' ? backfillVerb : historyVerb)(scheduleContext(s), id, scheduleOptions(v));
    }
    case 'versions': {
      const out = await call(s, 'versions:list', { workflow_id: await resolveWorkflow(s, args[0]) });
      print(s, out, () => versionsTable(out.versions));
      return 0;
    }
    case 'version': {
      const out = await call(s, 'versions:get', { workflow_id: await resolveWorkflow(s, args[0]), version: versionArg(args, 1) });
      print(s, out, () => `v${out.version} (${out.status}) by ${out.created_by}: ${out.change_log}\n${JSON.stringify(out.dsl_definition, null, 2)}`);
      return 0;
    }
    case 'draft': {
      const dsl = readDsl(v.dsl);
      const out = await call(s, 'versions:createDraft', {
        workflow_id: await resolveWorkflow(s, args[0]),
        ...(dsl === undefined ? {} : { dsl: dsl as never }),
        ...(v['change-log'] === undefined ? {} : { change_log: v['change-log'] }),
        ...revision(s),
      });
      print(s, out, () => `Draft v${out.version} created: ${out.change_log}`);
      return 0;
    }
    case 'diff': {
      const out = await call(s, 'versions:diff', { workflow_id: await resolveWorkflow(s, args[0]), from: versionArg(args, 1), to: versionArg(args, 2) });
      print(s, out, () => {
        const d = out.diff;
        if (d.identical) return `v${out.from.version} and v${out.to.version} are identical.`;
        const lines = [`v${out.from.version} → v${out.to.version}`];
        for (const n of d.added) lines.push(`  + ${n}`);
        for (const n of d.removed) lines.push(`  - ${n}`);
        for (const c of d.changed) for (const ch of c.changes) lines.push(`  ~ ${c.node_id}.${ch.path}: ${JSON.stringify(ch.before)} → ${JSON.stringify(ch.after)}`);
        for (const ch of d.defaults_changed) lines.push(`  ~ defaults.${ch.path}: ${JSON.stringify(ch.before)} → ${JSON.stringify(ch.after)}`);
        for (const ch of d.params_changed ?? []) lines.push(`  ~ params.${ch.path}: ${JSON.stringify(ch.before)} → ${JSON.stringify(ch.after)}`);
        return lines.join('\n');
      });
      return 0;
    }
    case 'publish':
    case 'rollback': {
      const workflow_id = await resolveWorkflow(s, args[0]);
      const version = versionArg(args, 1);
      if (verb === 'rollback' && v.preview) {
        const p = await call(s, 'versions:rollbackPreview', { workflow_id, version });
        print(s, p, () =>
          [
            `Rollback of ${p.workflow_name} v${p.from_version ?? '-'} → v${p.to_version} (revision ${p.revision})`,
            p.refusal ? `  would be refused: ${p.refusal.code}: ${p.refusal.message}\n  hint: ${p.refusal.hint}` : '  would apply',
            p.diff ? `  diff: +${p.diff.added.length} -${p.diff.removed.length} ~${p.diff.changed.length} nodes` : '',
            `  in flight on other versions: ${p.in_flight.length}; failed/interrupted runs resumable under v${p.to_version}: ${p.resumable.filter((r) => r.compatibility.compatible).length} of ${p.resumable.length}`,
          ]
            .filter(Boolean)
            .join('\n'),
        );
        return p.refusal ? exitCodeOf(p.refusal.code as ErrorCode) : 0;
      }
      const canary = verb === 'publish' ? canarySpec(v) : undefined;
      const out = await call(s, verb === 'publish' ? 'versions:publish' : 'versions:rollback', { workflow_id, version, ...revision(s), ...(canary ? { canary } : {}) });
      print(s, out, () => actionText(out));
      return 0;
    }
    case 'canary': {
      const action = need(args, 0, 'promote or abort');
      if (action !== 'promote' && action !== 'abort') throw usageError(`canary ${action}: the actions are promote and abort.`);
      const workflow_id = await resolveWorkflow(s, args[1]);
      const out =
        action === 'promote'
          ? await call(s, 'canary:promote', { workflow_id, ...revision(s) })
          : await call(s, 'canary:abort', { workflow_id, ...revision(s), ...(v.reason === undefined ? {} : { reason: v.reason }) });
      print(s, out, () => actionText(out));
      return 0;
    }
    case 'health': {
      const out = await call(s, 'workflows:health', { workflow_id: await resolveWorkflow(s, args[0]), ...(v.since === undefined ? {} : { since: v.since }) });
      print(s, out, () => (out.versions.length === 0 ? 'No finished runs.' : healthTable(out.versions)));
      return 0;
    }
    case 'archive': {
      if (v.before !== undefined || v.out !== undefined || v.after !== undefined) return archiveExport(s, v);
      const out = await call(s, 'versions:archive', { workflow_id: await resolveWorkflow(s, args[0]), version: versionArg(args, 1), ...revision(s) });
      print(s, out, () => `v${out.version} is ${out.status}.`);
      return 0;
    }
    case 'run': {
      const faults = { ...(v['fail-node'] ? { fail_node: v['fail-node'] } : {}), ...(v['crash-at-node'] ? { crash_at_node: v['crash-at-node'] } : {}) };
      const version = int(v.version, '--version');
      const seed = int(v.seed, '--seed');
      const workflowId = await resolveWorkflow(s, args[0]);
      const out = await call(s, 'runs:start', {
        workflow_id: workflowId,
        params: await runParams(s, workflowId, version, v),
        faults,
        // The local sandbox lives in this process: a run not waited for would end with it.
        wait: v.wait || s.remote === null,
        ...(version === undefined ? {} : { version }),
        ...(seed === undefined ? {} : { seed }),
      });
      print(s, out, () => runDetail(out));
      return 0;
    }
    case 'runs': {
      const limit = int(v.limit, '--limit');
      const out = await call(s, 'runs:list', {
        ...(v.workflow === undefined ? {} : { workflow_id: await resolveWorkflow(s, v.workflow) }),
        ...(v.status === undefined ? {} : { status: v.status as never }),
        ...(limit === undefined ? {} : { limit }),
      });
      print(s, out, () => (out.total === 0 ? 'No runs.' : `${runsTable(out.runs)}\n(${out.runs.length} of ${out.total})`));
      return 0;
    }
    case 'status': {
      const out = await call(s, 'runs:get', { run_id: need(args, 0, 'the run id') });
      print(s, out, () => runDetail(out));
      return 0;
    }
    case 'approvals': {
      const out = await call(s, 'approvals:list', v.workflow === undefined ? {} : { workflow_id: await resolveWorkflow(s, v.workflow) });
      print(s, out, () => (out.total === 0 ? 'No run waits for an approval.' : `${approvalsList(out.approvals)}\n(${out.approvals.length} of ${out.total})`));
      return 0;
    }
    case 'approve': {
      const out = await call(s, 'runs:approve', {
        run_id: need(args, 0, 'the run id'),
        decision: v.deny ? 'deny' : 'approve',
        ...(v.comment === undefined ? {} : { comment: v.comment }),
      });
      print(s, out, () => `${v.deny ? 'Denied: the run ends denied (an outcome, not a failure).' : 'Approved.'}\n${runDetail(out)}`);
      return 0;
    }
    case 'review': {
      const action = need(args, 0, 'list, approve or decline');
      if (action === 'list') {
        const out = await call(s, 'reviews:list', { status: v.all ? 'all' : 'pending' });
        print(s, out, () => (out.total === 0 ? (v.all ? 'No review requests.' : 'Nothing waits for review.') : `${reviewsTable(out.reviews, new Date())}\n(${out.reviews.length} of ${out.total})`));
        return 0;
      }
      if (action !== 'approve' && action !== 'decline') throw usageError(`review ${action}: the actions are list, approve and decline.`);
      const out = await call(s, action === 'approve' ? 'reviews:approve' : 'reviews:decline', {
        review_id: need(args, 1, 'the review id'),
        ...(v.note === undefined ? {} : { note: v.note }),
      });
      print(s, out, () => reviewAnswerText(out));
      return 0;
    }
    case 'stop': {
      const out = await call(s, 'runs:cancel', { run_id: need(args, 0, 'the run id') });
      print(s, out, () => runDetail(out));
      return 0;
    }
    case 'checkpoints': {
      const run_id = need(args, 0, 'the run id');
      if (args[1] !== undefined) {
        const out = await call(s, 'checkpoints:get', { run_id, seq: int(args[1], 'The checkpoint seq')! });
        print(s, out, () => `checkpoint ${out.seq} of ${out.run_id}: ${out.node_id} ${out.status}\n${JSON.stringify(out.state, null, 2)}`);
        return 0;
      }
      const out = await call(s, 'checkpoints:list', { run_id });
      // A run retention pruned says so rather than look as if it never ran.
      const pruned = out.checkpoints.length === 0 ? await call(s, 'runs:get', { run_id }) : null;
      print(s, out, () => (out.checkpoints.length === 0 ? (pruned?.pruned_at ? `Run ${run_id}: ${prunedNote(pruned)}.` : 'No checkpoints.') : checkpointsTable(out.checkpoints)));
      return 0;
    }
    case 'resume': {
      const version = int(v.version, '--version');
      const out = await call(s, 'runs:resume', { run_id: need(args, 0, 'the run id'), wait: v.wait || s.remote === null, ...(version === undefined ? {} : { version }) });
      print(s, out, () => runDetail(out));
      return 0;
    }
    case 'replay': {
      const version = int(v.version, '--version');
      if (version === undefined) throw usageError('replay needs --version.');
      const out = await call(s, 'runs:replay', { run_id: need(args, 0, 'the run id'), version });
      print(s, out, () =>
        [
          `replay ${out.replay.run_id} of ${out.original.run_id} under v${out.replay.version}: ${out.replay.status}; ${out.changed} node(s) changed`,
          table(
            ['NODE', 'BEFORE', 'AFTER', 'CHANGED'],
            out.outcomes.map((o) => [o.node_id, o.before ? `${o.before.status} ${JSON.stringify(o.before.output)}` : null, o.after ? `${o.after.status} ${JSON.stringify(o.after.output)}` : null, o.changed ? 'yes' : '']),
          ),
        ].join('\n'),
      );
      return 0;
    }
    case 'events':
      return events(s, v);
    case 'prune':
      return prune(s, v);
    case 'changes':
      return changesVerb({ backend: s.backend, json: s.json, out: s.out, resolveWorkflow: (ref) => resolveWorkflow(s, ref), now: new Date() }, v);
    case 'verify': {
      const { chain: out, remembered } = await verifyLog({ backend: s.backend, source: s.source, env: s.io.env });
      const still = remembered ? `; still holds event ${remembered.seq} verified before` : '';
      print(s, out, () => (out.ok ? `Chain ok: ${out.length} events, head ${out.head_hash.slice(0, 16)}…${still}` : `Chain BROKEN at seq ${out.first_broken_seq}: ${out.reason}`));
      return out.ok ? 0 : exitCodes.refused;
    }
    case 'whoami': {
      if (!s.remote) {
        const actor = (s.backend as Partial<EngineBackend>).defaultActor ?? 'you';
        print(s, { name: actor, role: 'admin', environment: 'sandbox', via: 'sandbox', expires_at: null }, () => `${actor} · admin (the local sandbox ${s.source}: your own file)`);
        return 0;
      }
      const who = await s.remote.whoami();
      const { whoamiLine } = await import('./sign-in.js');
      print(s, who, () => whoamiLine(who));
      return 0;
    }
    case 'login':
    case 'logout':
      // Answered in runCli before any backend is opened.
      return exitCodes.usage;
    case 'tokens':
      return tokens(s, args);
    case 'incidents': {
      const { incidentsVerb } = await import('./incidents.js');
      return incidentsVerb({ backend: s.backend, json: s.json, out: s.out, resolveWorkflow: (ref) => resolveWorkflow(s, ref) }, args, {
        status: v.status,
        workflow: v.workflow,
        limit: int(v.limit, '--limit'),
        note: v.note,
        version: int(v.version, '--version'),
      });
    }
    case 'webhooks': {
      const { webhooksVerb } = await import('./webhooks.js');
      return webhooksVerb(
        { backend: s.backend, json: s.json, out: s.out, env: s.io.env, resolveWorkflow: (ref) => resolveWorkflow(s, ref) },
        args,
        { secret: v.secret, events: v.events, workflows: v.workflows, state: v.status, limit: int(v.limit, '--limit') },
      );
    }
    case 'runbooks':
    case 'runbook':
    case 'rehearse':
    case 'rehearsals':
    case 'report': {
      const { runbookVerb } = await import('./runbooks.js');
      return runbookVerb(verb, args, rehearseOptions(v), {
        backend: s.backend,
        connectionId: s.remote?.baseUrl ?? 'sandbox',
        json: s.json,
        out: s.out,
        ...(s.io.prompt ? { prompt: s.io.prompt } : {}),
        ...(s.io.signal ? { signal: s.io.signal } : {}),
      });
    }
  }
}

function scheduleOptions(v: Values): import('./schedules.js').ScheduleOptions {
  return {
    dryRun: v['dry-run'],
    ...(v.catchup === undefined ? {} : { catchup: v.catchup }),
    ...(v['max-concurrent'] === undefined ? {} : { maxConcurrent: v['max-concurrent'] }),
    ...(v.from === undefined ? {} : { from: v.from }),
    ...(v.to === undefined ? {} : { to: v.to }),
    ...(v['max-ticks'] === undefined ? {} : { maxTicks: v['max-ticks'] }),
    ...(v.since === undefined ? {} : { since: v.since }),
    ...(v.status === undefined ? {} : { status: v.status }),
    ...(v.limit === undefined ? {} : { limit: v.limit }),
  };
}

function scheduleContext(s: Session): import('./schedules.js').ScheduleVerbContext {
  // The local sandbox's runs execute in this process: a backfill waits for them before it closes.
  const local = s.remote === null ? (s.backend as Partial<EngineBackend>).engine : undefined;
  return {
    backend: s.backend,
    json: s.json,
    out: s.out,
    ...(local ? { waitRun: (id: string) => local.runs.wait(id), now: () => new Date(local.now()) } : {}),
  };
}

function rehearseOptions(v: Values): Parameters<typeof import('./runbooks.js').runbookVerb>[2] {
  return {
    yes: v.yes,
    ...(v.scenario === undefined ? {} : { scenario: v.scenario }),
    ...(v.skip === undefined ? {} : { skip: v.skip }),
    ...(v.format === undefined ? {} : { format: v.format }),
    ...(v['time-scale'] === undefined ? {} : { timeScale: v['time-scale'] }),
  };
}

/** Events printed by `events` without --after (and before --follow follows): the newest, as `tail` shows. */
const NEWEST_EVENTS = 20;

async function events(s: Session, v: Values): Promise<number> {
  const after = int(v.after, '--after');
  const before = int(v.before, '--before');
  if (before !== undefined && (after !== undefined || v.follow)) throw usageError('--before pages back through the log; --after and --follow read it forward.', 'Give --before alone, or --after / --follow without it.');
  const limit = int(v.limit, '--limit');
  const workflow = v.workflow === undefined ? undefined : await resolveWorkflow(s, v.workflow);
  const { sinceTime } = await import('./schedules.js');
  const now = new Date();
  const filter = {
    ...(workflow === undefined ? {} : { workflow_id: workflow }),
    ...(v.type === undefined ? {} : { type: v.type }),
    ...(v.actor === undefined ? {} : { actor: v.actor }),
    ...(v.since === undefined ? {} : { since: sinceTime(v.since, now) }),
    ...(v.until === undefined ? {} : { until: sinceTime(v.until, now, '--until') }),
  };
  const types = filter.type?.split(',');
  const matches = (e: MethodOutput<'events:list'>['events'][number]) =>
    (filter.workflow_id === undefined || e.workflow_id === filter.workflow_id) &&
    (types === undefined || types.includes(e.type)) &&
    (filter.actor === undefined || e.actor === filter.actor) &&
    (filter.since === undefined || e.ts >= filter.since) &&
    (filter.until === undefined || e.ts < filter.until);
  const show = (e: MethodOutput<'events:list'>['events'][number]) => {
    if (matches(e)) s.out(s.json ? JSON.stringify(e) : eventLine(e));
  };
  // With --after, the log forward from there (the origin's cursor); else its newest events, back from the head or --before.
  let from = after;
  if (after === undefined) {
    const top = before ?? (await call(s, 'events:head', {})).seq + 1;
    const page = await call(s, 'events:list', { before: top, limit: limit ?? NEWEST_EVENTS, ...filter });
    from = top - 1;
    if (!v.follow && s.json) s.out(JSON.stringify(page, null, 2));
    else [...page.events].reverse().forEach(show);
    if (!v.follow && !s.json && page.next_before !== null && page.next_before !== undefined) s.io.stderr(`[older: rewind events --before ${page.next_before}]`);
  } else if (!v.follow) {
    const out = await call(s, 'events:list', { after, ...(limit === undefined ? {} : { limit }), ...filter });
    if (s.json) s.out(JSON.stringify(out, null, 2));
    else out.events.forEach(show);
  }
  if (!v.follow) return 0;
  const followFrom = from ?? 0;
  return new Promise<number>((resolve) => {
    let stop = () => undefined as void;
    // A sandbox's timers (its poll of the file, its scheduler) do not hold the process open: this
    // does, until Ctrl-C or a refusal — else `--follow` on a sandbox would end as soon as it began.
    const keepOpen = setInterval(() => undefined, 2 ** 30);
    const finish = (code: number) => {
      clearInterval(keepOpen);
      stop();
      resolve(code);
    };
    stop = s.backend.subscribe({
      after: followFrom,
      onEvent: show,
      onState: (state, detail) => {
        if (!s.json || state === 'refused') s.io.stderr(`[stream ${state}${detail ? `: ${detail}` : ''}]`);
        if (state === 'refused') finish(exitCodes.unreachable);
      },
    });
    if (s.io.signal?.aborted) finish(0);
    s.io.signal?.addEventListener('abort', () => finish(0), { once: true });
  });
}

async function tokens(s: Session, args: string[]): Promise<number> {
  if (!s.remote) throw usageError('Tokens exist on a workflow server only.', 'Pass --server URL (with an admin token in REWIND_TOKEN).');
  const sub = args[0];
  const infoRows = (list: TokenInfo[]) =>
    table(
      ['ID', 'NAME', 'ROLE', 'CREATED', 'REVOKED'],
      list.map((t) => [t.id, t.name, t.role, t.created_at, t.revoked_at]),
    );
  if (sub === 'list') {
    const out = await s.remote.serverRequest('GET', '/api/v1/tokens', undefined, tokenListSchema);
    print(s, out, () => infoRows(out.tokens));
    return 0;
  }
  if (sub === 'create') {
    const out = await s.remote.serverRequest('POST', '/api/v1/tokens', { name: need(args, 1, 'the token name'), role: need(args, 2, 'the role (viewer, operator, admin)') }, tokenCreatedSchema);
    print(s, out, () => `Token for ${out.name} (${out.role}), shown once:\n${out.token}`);
    return 0;
  }
  if (sub === 'revoke') {
    const out = await s.remote.serverRequest('DELETE', `/api/v1/tokens/${encodeURIComponent(need(args, 1, 'the token id'))}`, undefined, tokenInfoSchema);
    print(s, out, () => `Revoked ${out.name} (${out.id}); its streams close within one heartbeat.`);
    return 0;
  }
  throw usageError('tokens takes list, create NAME ROLE, or revoke ID.');
}

/** `login` and `logout` talk to the server and its provider themselves: no session of the usual kind. */
async function signInVerb(verb: 'login' | 'logout', values: Values, io: CliIo): Promise<number> {
  const server = values.server ?? (io.env.REWIND_SERVER || undefined);
  if (server === undefined) throw usageError(`${verb} needs --server URL (or REWIND_SERVER).`, `e.g. rewind ${verb} --server https://rewind.example:8443`);
  try {
    new URL(server);
  } catch {
    throw usageError(`"${server}" is not a URL.`, 'Give the server as http(s)://host:port.');
  }
  const { loginVerb, logoutVerb } = await import('./sign-in.js');
  if (verb === 'logout') return logoutVerb({ server, json: values.json }, io);
  if (io.env.REWIND_TOKEN) io.stderr('note: REWIND_TOKEN is set, and wins over this sign-in until you unset it.');
  return loginVerb({ server, loopback: values.loopback, json: values.json }, io);
}

/** Runs one command line; resolves to the exit code. */
export async function runCli(argv: string[], rawIo: CliIo): Promise<number> {
  // Names and messages may hold control characters a server or file put there: never print them raw.
  const json = argv.includes('--json');
  const io: CliIo = { ...rawIo, stdout: (text) => rawIo.stdout(terminalSafe(text, json)), stderr: (text) => rawIo.stderr(terminalSafe(text, json)) };
  const early = preflight(argv, io);
  if (early !== null) return early;
  const { values, positionals } = parseCommandLine(argv);
  let session: Session | null = null;
  try {
    if (positionals[0] === 'login' || positionals[0] === 'logout') return await signInVerb(positionals[0], values, io);
    // Browsing an archive file needs no server and no sandbox.
    if (positionals[0] === 'archive' && values.open !== undefined) return await archiveOpen(values.open, positionals.slice(1), values, values.json, io.stdout);
    const revisionValue = int(values.revision, '--revision');
    const { backend, remote, source } = await connect(values, io);
    session = { backend, remote, source, json: values.json, revision: revisionValue, out: io.stdout, io };
    const [verb, ...args] = positionals;
    return await runVerb(session, verb as Verb, args, values);
  } catch (err) {
    const data = toErrorData(err);
    report(io, values.json, data);
    if (values.debug && data.code === 'INTERNAL' && err instanceof Error) io.stderr(err.stack ?? '');
    return exitCodeOf(data.code);
  } finally {
    await session?.backend.close();
  }
}
