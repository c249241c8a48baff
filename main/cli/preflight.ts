import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type ParseArgsConfig, parseArgs } from 'node:util';
import type { RewindErrorData } from '../../preload/contract/errors.js';
import { SANDBOX_FILE, defaultUserDataDir } from '../ipc/user-data.js';

/*
 * What the CLI answers before it loads anything heavy (zod, the engine, SQLite, the remote client):
 * --help, --version, a malformed command line and an unknown verb. So these answer at once, and an
 * unknown verb is named before any other check (a missing token, a missing database folder).
 */

/** Exit codes scripts can rely on. */
export const exitCodes = { ok: 0, refused: 1, usage: 2, unreachable: 3 } as const;

export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  env: Record<string, string | undefined>;
  /** Ends `events --follow`; aborts a rehearsal (what ran is kept). */
  signal?: AbortSignal;
  /** Asks a question on the terminal; absent when stdin is not a TTY. */
  prompt?: (question: string) => Promise<string>;
  /** Opens a URL in the system browser (`rewind login`'s browser flow); absent when no one is at a terminal. */
  openUrl?: (url: string) => Promise<void>;
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
  register --name NAME [--dsl FILE] [--schedule CRON] [--description TEXT]
  register --template NAME --name NAME [--param K=V]… [--params JSON]   a workflow from a template
  clone WORKFLOW [--name NAME]                 copy the active definition into a new workflow (starts paused)
  unregister WORKFLOW [--cancel-running]       remove it from every list (history kept); refused while runs
                                               are in flight unless --cancel-running cancels them
  pause WORKFLOW | unpause WORKFLOW            stop or resume starting runs
  schedule WORKFLOW (CRON | --clear) [--catchup skip|latest|all] [--max-concurrent N|none]
                                               set or clear the cron schedule (5 fields, or 6 with leading
                                               seconds, or @hourly…); shows the next three fire times
  backfill WORKFLOW --from T --to T [--dry-run] [--max-ticks N] [--max-concurrent N]
                                               a run per tick of the schedule in [from, to) (--dry-run lists them;
                                               --max-concurrent 1..1000: that many in flight, the rest as they end)
  history WORKFLOW [--since T|7d|24h] [--status S] [--limit N]
                                               runs with trigger, logical date, version, duration, status
  (CODE workflows come from the server's --code-dir, or the sandbox's: register, draft, publish, schedule and
   unregister refuse them with CODE_MANAGED; pause and unpause work)
Templates
  templates                                    the workflow templates
  templates show NAME                          one template's parameters
Versions
  versions WORKFLOW                            the version timeline, newest first
  version WORKFLOW V                           one version with its DSL
  draft WORKFLOW [--dsl FILE] [--change-log TEXT]   new draft (a snapshot of the active one without --dsl)
  diff WORKFLOW FROM TO                        structural DSL diff
  publish WORKFLOW V                           make a draft active
  publish WORKFLOW V --canary PERCENT --min-runs N --max-failure-rate R [--max-p95-ms MS]
          [--verdict KEY=VALUE:MAX_RATE] [--window-runs N] [--promote auto|manual (default manual)]
                                               a canary: PERCENT % of new runs draw V; a breach rolls back by itself
  canary promote|abort WORKFLOW [--reason TEXT]  end the running canary: promote it, or roll back to the stable version
  health WORKFLOW [--since ISO]                health per version: runs, failure rate, p50/p95, verdicts
  rollback WORKFLOW V [--preview]              roll back to an earlier version (--preview: what it would do)
  archive WORKFLOW V                           archive a version that is not active
Runs
  run WORKFLOW [--version V] [--param K=V]… [--params JSON] [--seed N] [--fail-node ID] [--crash-at-node ID] [--wait]
                                               params the version declares (its params and defaults), each --param read as its type
  runs [--workflow WORKFLOW] [--status S] [--limit N]
  status RUN | stop RUN                        read or cancel a run
  approvals [--workflow WORKFLOW]              runs waiting for an approval: the prompt, who asks, what is done
  approve RUN [--deny] [--comment TEXT]        answer the approval a waiting run asks for (a deny ends it denied)
  checkpoints RUN [SEQ]                        a run's checkpoints, or one with its state
  resume RUN [--version V] [--wait]            continue after the last good checkpoint, as a child run
  replay RUN --version V                       re-run its input under V and diff the outcomes
History and retention
  archive --before DATE --out FILE [--after DATE]
                                               export the finished runs that ended before DATE (and at or after
                                               --after), with their checkpoints, to FILE: gzip NDJSON, a header line
                                               first (server, schema, range) — before retention prunes them
  archive --open FILE [RUN [SEQ]]              browse an archive: its header and runs (--workflow, --status,
                                               --limit), one run's checkpoints, or one checkpoint's state
  prune --retain-runs WINDOW [--keep-failed-checkpoints] [--dry-run]
                                               sandbox only: one retention pass now (WINDOW 90d, 12w, 36h; also
                                               REWIND_RETAIN_RUNS): runs that ended before it lose their checkpoints,
                                               events stay (a server prunes itself: start it with --retain-runs)
  prune --vacuum                               rebuild a SQLite file made before incremental auto_vacuum so pruned
                                               space is given back from then on (stop the server using it first)
Events
  changes --from T --to T [--workflow WORKFLOW]
                                               what changed between two moments (a seq, an RFC 3339 time, or a
                                               local time such as 02:00): active versions, publishes, rollbacks,
                                               pauses, schedule and canary changes, runs started/failed/succeeded
  events [--before SEQ | --after SEQ] [--limit N] [--workflow WORKFLOW] [--type T1,T2] [--actor A]
         [--since TIME|7d] [--until TIME|24h] [--follow]
                                               the newest events (20), or those before SEQ, filtered on the server;
                                               --after SEQ: the log forward from SEQ; --follow: then what comes next
                                               (on a sandbox it fires its schedules meanwhile, and with --code-dir DIR
                                               keeps that folder's CODE workflows in line as it changes)
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
Sign-in (a server started with --oidc-issuer)
  login --server URL [--loopback]              sign in as yourself: the device grant where the provider has it (open
                                               the printed address, enter the code), else the browser (--loopback:
                                               the browser even so); kept for you only, refreshed by itself
  logout [--server URL]                        forget that sign-in (and revoke it at the provider)
  whoami                                       who the server takes you for, your role, and how you came in
Review (a server started with --require-review: a publish, promote or rollback there answers "sent for review")
  review list [--all]                          requests waiting for another person (--all: answered and expired too)
  review approve ID [--note TEXT]              approve: the action runs now, as the requester's (not your own request)
  review decline ID [--note TEXT]              decline: nothing happens (the requester may decline, i.e. withdraw, their own)
Incidents (opened when a version's failure rate breaks 20 %; timed from the first failure)
  incidents [list] [--status open|resolved|all] [--workflow W] [--limit N]
                                               incident records with their time to acknowledge, mitigate, resolve
  incidents show ID | incidents ack ID          one record; "I'm on it" (the first acknowledgement stands)
  incidents resolve ID [--note TEXT]           close it yourself (fixed forward, a false alarm)
  incidents report ID | incidents plan ID [--version N]
                                               its post-incident report; seed 003's rollback plan (Markdown)
Tokens (server only, admin)
  tokens list | tokens create NAME ROLE | tokens revoke ID
Webhooks (server only, admin)
  webhooks add URL [--secret S] [--events T1,T2] [--workflows WF1,WF2]
                                               POST matching events to URL, signed with the secret
                                               (or REWIND_WEBHOOK_SECRET); every event and workflow by default
  webhooks list | webhooks rm ID               the webhooks with pending/dead counts; delete one
  webhooks deliveries ID [--status S] [--limit N]   its delivery log: attempts, last status, why it failed

Options
  --server URL     a workflow server: REWIND_TOKEN when set, else your \`rewind login\` sign-in; also REWIND_SERVER
  --db FILE        the local sandbox file (also REWIND_SANDBOX); default ${defaultSandboxPath(process.env)}
  --no-demo        a new sandbox file starts empty (by default it gets the demo workflows, as in the console)
  --code-dir DIR   workflows as code on the sandbox (the server's --code-dir): the files below DIR are synced
                   as CODE workflows before the verb runs, and followed while \`events --follow\` runs
  --live           sandbox only: http nodes run for real in this invocation (else they answer their
                   \`sandbox\` stand-in); {{secret.NAME}} reads REWIND_SECRET_NAME from the environment
  --allow-commands with --live: command nodes run too (programs on this machine)
  --json           machine output on stdout; errors as {"error": …} on stderr
  --revision N     the workflow revision the change is based on (refused with STALE_REVISION if it moved)
  --timeout MS     per request, remote only (default 15000)
  --version        (alone) print Rewind's version
  --debug          print the stack trace of an unexpected failure

Exit codes: 0 ok, 1 refused by a rule (the error code is printed), 2 usage or an unusable database file, 3 unreachable or not authorised.`;

export const globalOptions = {
  server: { type: 'string' },
  db: { type: 'string' },
  json: { type: 'boolean', default: false },
  'no-demo': { type: 'boolean', default: false },
  'code-dir': { type: 'string' },
  live: { type: 'boolean', default: false },
  'allow-commands': { type: 'boolean', default: false },
  timeout: { type: 'string' },
  revision: { type: 'string' },
  help: { type: 'boolean', short: 'h', default: false },
  debug: { type: 'boolean', default: false },
} as const satisfies ParseArgsConfig['options'];

export const verbOptions = {
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
  before: { type: 'string' },
  type: { type: 'string' },
  actor: { type: 'string' },
  until: { type: 'string' },
  follow: { type: 'boolean', default: false },
  format: { type: 'string' },
  scenario: { type: 'string' },
  skip: { type: 'string' },
  yes: { type: 'boolean', short: 'y', default: false },
  'time-scale': { type: 'string' },
  deny: { type: 'boolean', default: false },
  comment: { type: 'string' },
  template: { type: 'string' },
  'cancel-running': { type: 'boolean', default: false },
  canary: { type: 'string' },
  'min-runs': { type: 'string' },
  'max-failure-rate': { type: 'string' },
  'max-p95-ms': { type: 'string' },
  verdict: { type: 'string' },
  'window-runs': { type: 'string' },
  promote: { type: 'string' },
  reason: { type: 'string' },
  catchup: { type: 'string' },
  'max-concurrent': { type: 'string' },
  from: { type: 'string' },
  to: { type: 'string' },
  'dry-run': { type: 'boolean', default: false },
  'max-ticks': { type: 'string' },
  since: { type: 'string' },
  secret: { type: 'string' },
  events: { type: 'string' },
  workflows: { type: 'string' },
  out: { type: 'string' },
  open: { type: 'string' },
  'retain-runs': { type: 'string' },
  'keep-failed-checkpoints': { type: 'boolean', default: false },
  vacuum: { type: 'boolean', default: false },
  loopback: { type: 'boolean', default: false },
  note: { type: 'string' },
  all: { type: 'boolean', default: false },
} as const satisfies ParseArgsConfig['options'];

/** Every verb `runVerb` knows, in the order --help lists them. */
export const verbs = [
  'workflows', 'get', 'register', 'clone', 'unregister', 'pause', 'unpause', 'schedule', 'backfill', 'history', 'templates',
  'versions', 'version', 'draft', 'diff', 'publish', 'rollback', 'archive', 'canary', 'health',
  'run', 'runs', 'status', 'stop', 'approvals', 'approve', 'checkpoints', 'resume', 'replay',
  'events', 'verify', 'prune', 'changes',
  'runbooks', 'runbook', 'rehearse', 'rehearsals', 'report',
  'incidents',
  'login', 'logout', 'whoami', 'tokens', 'webhooks', 'review',
] as const;
export type Verb = (typeof verbs)[number];
const verbSet: ReadonlySet<string> = new Set(verbs);

export function isVerb(word: string): word is Verb {
  return verbSet.has(word);
}

export function parseCommandLine(argv: string[]) {
  return parseArgs({ args: argv, options: { ...globalOptions, ...verbOptions }, allowPositionals: true, strict: true });
}

export function report(io: CliIo, json: boolean, error: RewindErrorData): void {
  if (json) io.stderr(JSON.stringify({ error }));
  else io.stderr(`error ${error.code}: ${error.message}\n  hint: ${error.hint}`);
}

/** Rewind's version, from the package.json two folders up (from main/cli/ and from the compiled out/node/ alike). */
export function packageVersion(): string {
  return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
}

/**
 * Answers what needs no backend; returns the exit code then, or null when the command line is a
 * well-formed call of a known verb.
 */
export function preflight(argv: string[], io: CliIo): number | null {
  const json = argv.includes('--json');
  // Loose first: the verb is found even beside an unknown option, and named before that option.
  const loose = parseArgs({ args: argv, options: { ...globalOptions, ...verbOptions }, allowPositionals: true, strict: false });
  const verb = loose.positionals[0];
  if (verb !== undefined && !isVerb(verb)) {
    report(io, json, { code: 'VALIDATION_FAILED', message: `Unknown verb "${verb}".`, hint: `The verbs: ${verbs.join(', ')}. Run \`rewind --help\` for their arguments.` });
    return exitCodes.usage;
  }
  // `--version` is also run's and resume's `--version V`: alone, before any verb, it asks for Rewind's.
  if (verb === undefined && argv.includes('--version')) {
    io.stdout(`rewind ${packageVersion()}`);
    return exitCodes.ok;
  }
  let values: ReturnType<typeof parseCommandLine>['values'];
  try {
    ({ values } = parseCommandLine(argv));
  } catch (err) {
    report(io, json, { code: 'VALIDATION_FAILED', message: err instanceof Error ? err.message : String(err), hint: 'Run `rewind --help` for the verbs and their options.' });
    return exitCodes.usage;
  }
  if (values.help || verb === undefined) {
    (values.help ? io.stdout : io.stderr)(usage);
    return values.help ? exitCodes.ok : exitCodes.usage;
  }
  return null;
}
