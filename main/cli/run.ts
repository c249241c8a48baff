import { mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { type ParseArgsConfig, parseArgs } from 'node:util';
import type { Backend } from '../backends/backend.js';
import { RemoteBackend } from '../backends/remote/index.js';
import { openSandbox } from '../backends/engine-backend.js';
import { RewindError, toErrorData } from '../engine/errors.js';
import { SANDBOX_FILE, defaultUserDataDir } from '../ipc/user-data.js';
import { type TokenInfo, tokenCreatedSchema, tokenListSchema, tokenInfoSchema } from '../server/protocol.js';
import type { BackendMethod, ErrorCode, MethodInput, MethodOutput, RewindErrorData } from '../../preload/contract/index.js';
import { checkpointsTable, eventLine, runDetail, runsTable, table, versionsTable, workflowDetail, workflowsTable } from './format.js';
import { runbookVerb } from './runbooks.js';

/** Exit codes scripts can rely on. */
export const exitCodes = { ok: 0, refused: 1, usage: 2, unreachable: 3 } as const;

const usageCodes = new Set<ErrorCode>(['VALIDATION_FAILED', 'MALFORMED_REQUEST']);
const connectionCodes = new Set<ErrorCode>(['UNREACHABLE', 'TIMEOUT', 'TLS_FAILED', 'UNAUTHORIZED', 'FORBIDDEN', 'PROTOCOL_MISMATCH']);

export function exitCodeOf(code: ErrorCode): number {
  if (usageCodes.has(code)) return exitCodes.usage;
  if (connectionCodes.has(code)) return exitCodes.unreachable;
  return exitCodes.refused;
}

export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  env: Record<string, string | undefined>;
  /** Ends `events --follow`; aborts a rehearsal (what ran is kept). */
  signal?: AbortSignal;
  /** Asks a question on the terminal; absent when stdin is not a TTY. */
  prompt?: (question: string) => Promise<string>;
}

/**
 * Where the local sandbox lives when neither --db nor REWIND_SANDBOX says: the same file the console
 * opens (Rewind's per-user folder), so a script and the console beside it see one sandbox.
 */
export function defaultSandboxPath(env: NodeJS.ProcessEnv, platform: NodeJS.Platform = process.platform): string {
  return join(defaultUserDataDir(platform, env), SANDBOX_FILE);
}

export const usage = `Usage: rewind [--server URL] [--db FILE] [--json] <verb> [arguments]

Workflows
  workflows [--query TEXT]                     list workflows
  get WORKFLOW                                 one workflow (id or name)
  register --name NAME [--dsl FILE] [--schedule CRON] [--description TEXT] [--code]
  pause WORKFLOW | unpause WORKFLOW            stop or resume starting runs
  schedule WORKFLOW (CRON | --clear)           set or clear the cron schedule
Versions
  versions WORKFLOW                            the version timeline, newest first
  version WORKFLOW V                           one version with its DSL
  draft WORKFLOW [--dsl FILE] [--change-log TEXT]   new draft (a snapshot of the active one without --dsl)
  diff WORKFLOW FROM TO                        structural DSL diff
  publish WORKFLOW V                           make a draft active
  rollback WORKFLOW V [--preview]              roll back to an earlier version (--preview: what it would do)
  archive WORKFLOW V                           archive a version that is not active
Runs
  run WORKFLOW [--version V] [--param K=V]… [--params JSON] [--seed N] [--fail-node ID] [--crash-at-node ID] [--wait]
  runs [--workflow WORKFLOW] [--status S] [--limit N]
  status RUN | stop RUN                        read or cancel a run
  approve RUN [--deny] [--comment TEXT]        answer the approval a waiting run asks for
  checkpoints RUN [SEQ]                        a run's checkpoints, or one with its state
  resume RUN [--version V] [--wait]            continue after the last good checkpoint, as a child run
  replay RUN --version V                       re-run its input under V and diff the outcomes
Events
  events [--after SEQ] [--limit N] [--workflow WORKFLOW] [--follow]
  verify                                       verify the event log's hash chain
Runbooks
  runbooks                                     list the runbooks
  runbook import FILE [--format yaml|json]     import a runbook (YAML, or JSON by its extension)
  runbook export NAME [--format json]          print a runbook (YAML by default)
  rehearse NAME [--scenario S] [--skip N,M] [--yes] [--time-scale X]
                                               rehearse on the sandbox (a scenario sets up the incident first),
                                               or execute live with --server (every action asks first);
                                               --yes confirms every step, --time-scale 0..1 fast-forwards waits (sandbox)
  rehearsals NAME                              a runbook's rehearsals and their time to recover
  report REHEARSAL_ID                          a rehearsal's post-incident report (Markdown)
Tokens (server only, admin)
  tokens list | tokens create NAME ROLE | tokens revoke ID

Options
  --server URL     a workflow server (its token from REWIND_TOKEN); also REWIND_SERVER
  --db FILE        the local sandbox file (also REWIND_SANDBOX); default ${defaultSandboxPath(process.env)}
  --json           machine output on stdout; errors as {"error": …} on stderr
  --revision N     the workflow revision the change is based on (refused with STALE_REVISION if it moved)
  --timeout MS     per request, remote only (default 15000)

Exit codes: 0 ok, 1 refused by a rule (the error code is printed), 2 usage, 3 unreachable or not authorised.`;

const globalOptions = {
  server: { type: 'string' },
  db: { type: 'string' },
  json: { type: 'boolean', default: false },
  timeout: { type: 'string' },
  revision: { type: 'string' },
  help: { type: 'boolean', short: 'h', default: false },
} as const satisfies ParseArgsConfig['options'];

const verbOptions = {
  query: { type: 'string' },
  name: { type: 'string' },
  dsl: { type: 'string' },
  schedule: { type: 'string' },
  description: { type: 'string' },
  code: { type: 'boolean', default: false },
  clear: { type: 'boolean', default: false },
  'change-log': { type: 'string' },
  preview: { type: 'boolean', default: false },
  version: { type: 'string' },
  param: { type: 'string', multiple: true },
  params: { type: 'string' },
  seed: { type: 'string' },
  'fail-node': { type: 'string' },
  'crash-at-node': { type: 'string' },
  wait: { type: 'boolean', default: false },
  workflow: { type: 'string' },
  status: { type: 'string' },
  limit: { type: 'string' },
  after: { type: 'string' },
  follow: { type: 'boolean', default: false },
  format: { type: 'string' },
  scenario: { type: 'string' },
  skip: { type: 'string' },
  yes: { type: 'boolean', short: 'y', default: false },
  'time-scale': { type: 'string' },
  deny: { type: 'boolean', default: false },
  comment: { type: 'string' },
} as const satisfies ParseArgsConfig['options'];

type Values = ReturnType<typeof parseCommandLine>['values'];

function parseCommandLine(argv: string[]) {
  return parseArgs({ args: argv, options: { ...globalOptions, ...verbOptions }, allowPositionals: true, strict: true });
}

function usageError(message: string, hint = 'Run `rewind --help` for the verbs and their arguments.'): RewindError {
  return new RewindError('VALIDATION_FAILED', message, hint);
}

function int(value: string | undefined, what: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^-?\d+$/.test(value)) throw usageError(`${what} must be a whole number; got "${value}".`);
  return Number(value);
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
  json: boolean;
  revision: number | undefined;
  out: (text: string) => void;
  io: CliIo;
}

async function connect(values: Values, io: CliIo): Promise<{ backend: Backend; remote: RemoteBackend | null }> {
  const server = values.server ?? (io.env.REWIND_SERVER || undefined);
  if (server !== undefined && values.db !== undefined) throw usageError('--server and --db exclude each other.', 'Pick the server or the local sandbox.');
  if (server !== undefined) {
    const token = io.env.REWIND_TOKEN;
    if (!token) throw usageError('--server needs a token in REWIND_TOKEN.', 'export REWIND_TOKEN=<token>; an admin issues one with `rewind tokens create`.');
    const timeoutMs = int(values.timeout, '--timeout');
    const remote = new RemoteBackend({ url: server, token, ...(timeoutMs === undefined ? {} : { timeoutMs }) });
    return { backend: remote, remote };
  }
  const explicit = values.db ?? (io.env.REWIND_SANDBOX || undefined);
  const path = explicit ?? defaultSandboxPath(io.env);
  mkdirSync(dirname(path), { recursive: true });
  // The default sandbox is a newcomer's first look: seed it with the demo workflows when it is new.
  return { backend: await openSandbox({ path, demo: explicit === undefined }), remote: null };
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

async function runVerb(s: Session, verb: string, args: string[], v: Values): Promise<number> {
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
    case 'pause':
    case 'unpause': {
      const out = await call(s, verb === 'pause' ? 'workflows:pause' : 'workflows:unpause', { workflow_id: await resolveWorkflow(s, args[0]), ...revision(s) });
      print(s, out, () => `${out.name} is ${out.status} (revision ${out.revision}).`);
      return 0;
    }
    case 'schedule': {
      const id = await resolveWorkflow(s, args[0]);
      if (!v.clear && args[1] === undefined) throw usageError('schedule needs a cron expression, or --clear.');
      const out = await call(s, 'workflows:setSchedule', { workflow_id: id, schedule: v.clear ? null : args[1]!, ...revision(s) });
      print(s, out, () => `${out.name}: schedule ${out.schedule ?? 'cleared'} (revision ${out.revision}).`);
      return 0;
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
      const out = await call(s, verb === 'publish' ? 'versions:publish' : 'versions:rollback', { workflow_id, version, ...revision(s) });
      print(s, out, () => `${out.message} (event ${out.seq}, revision ${out.revision})`);
      return 0;
    }
    case 'archive': {
      const out = await call(s, 'versions:archive', { workflow_id: await resolveWorkflow(s, args[0]), version: versionArg(args, 1), ...revision(s) });
      print(s, out, () => `v${out.version} is ${out.status}.`);
      return 0;
    }
    case 'run': {
      const faults = { ...(v['fail-node'] ? { fail_node: v['fail-node'] } : {}), ...(v['crash-at-node'] ? { crash_at_node: v['crash-at-node'] } : {}) };
      const version = int(v.version, '--version');
      const seed = int(v.seed, '--seed');
      const out = await call(s, 'runs:start', {
        workflow_id: await resolveWorkflow(s, args[0]),
        params: parseParams(v),
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
    case 'approve': {
      const out = await call(s, 'runs:approve', {
        run_id: need(args, 0, 'the run id'),
        decision: v.deny ? 'deny' : 'approve',
        ...(v.comment === undefined ? {} : { comment: v.comment }),
      });
      print(s, out, () => `${v.deny ? 'Denied' : 'Approved'}.\n${runDetail(out)}`);
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
      print(s, out, () => (out.checkpoints.length === 0 ? 'No checkpoints.' : checkpointsTable(out.checkpoints)));
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
    case 'verify': {
      const out = await call(s, 'events:verify', {});
      print(s, out, () => (out.ok ? `Chain ok: ${out.length} events, head ${out.head_hash.slice(0, 16)}…` : `Chain BROKEN at seq ${out.first_broken_seq}: ${out.reason}`));
      return out.ok ? 0 : exitCodes.refused;
    }
    case 'tokens':
      return tokens(s, args);
    case 'runbooks':
    case 'runbook':
    case 'rehearse':
    case 'rehearsals':
    case 'report':
      return runbookVerb(verb, args, rehearseOptions(v), {
        backend: s.backend,
        connectionId: s.remote?.baseUrl ?? 'sandbox',
        json: s.json,
        out: s.out,
        ...(s.io.prompt ? { prompt: s.io.prompt } : {}),
        ...(s.io.signal ? { signal: s.io.signal } : {}),
      });
    default:
      throw usageError(`Unknown verb "${verb}".`);
  }
}

function rehearseOptions(v: Values): Parameters<typeof runbookVerb>[2] {
  return {
    yes: v.yes,
    ...(v.scenario === undefined ? {} : { scenario: v.scenario }),
    ...(v.skip === undefined ? {} : { skip: v.skip }),
    ...(v.format === undefined ? {} : { format: v.format }),
    ...(v['time-scale'] === undefined ? {} : { timeScale: v['time-scale'] }),
  };
}

async function events(s: Session, v: Values): Promise<number> {
  const after = int(v.after, '--after') ?? 0;
  const limit = int(v.limit, '--limit');
  const workflow = v.workflow === undefined ? undefined : await resolveWorkflow(s, v.workflow);
  const show = (e: MethodOutput<'events:list'>['events'][number]) => {
    if (workflow === undefined || e.workflow_id === workflow) s.out(s.json ? JSON.stringify(e) : eventLine(e));
  };
  if (!v.follow) {
    const out = await call(s, 'events:list', { after, ...(limit === undefined ? {} : { limit }), ...(workflow === undefined ? {} : { workflow_id: workflow }) });
    if (s.json) s.out(JSON.stringify(out, null, 2));
    else out.events.forEach(show);
    return 0;
  }
  return new Promise<number>((resolve) => {
    let stop = () => undefined as void;
    const finish = (code: number) => {
      stop();
      resolve(code);
    };
    stop = s.backend.subscribe({
      after,
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

function report(io: CliIo, json: boolean, error: RewindErrorData): void {
  if (json) io.stderr(JSON.stringify({ error }));
  else io.stderr(`error ${error.code}: ${error.message}\n  hint: ${error.hint}`);
}

/** Runs one command line; resolves to the exit code. */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  let values: Values;
  let positionals: string[];
  try {
    ({ values, positionals } = parseCommandLine(argv));
  } catch (err) {
    report(io, argv.includes('--json'), { code: 'VALIDATION_FAILED', message: err instanceof Error ? err.message : String(err), hint: 'Run `rewind --help` for the verbs and their options.' });
    return exitCodes.usage;
  }
  if (values.help || positionals.length === 0) {
    (values.help ? io.stdout : io.stderr)(usage);
    return values.help ? exitCodes.ok : exitCodes.usage;
  }
  let session: Session | null = null;
  try {
    const revisionValue = int(values.revision, '--revision');
    const { backend, remote } = await connect(values, io);
    session = { backend, remote, json: values.json, revision: revisionValue, out: io.stdout, io };
    const [verb, ...args] = positionals;
    return await runVerb(session, verb!, args, values);
  } catch (err) {
    const data = toErrorData(err);
    report(io, values.json, data);
    return exitCodeOf(data.code);
  } finally {
    await session?.backend.close();
  }
}
