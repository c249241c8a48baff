import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import type { RehearsalSession, StepRecord, StoredRehearsal, StoredRunbook } from '../../preload/contract/index.js';
import type { Backend } from '../backends/backend.js';
import { RewindError } from '../engine/errors.js';
import { createRehearsalSessions } from '../ipc/rehearsals/rehearsal-sessions.js';
import { formatDuration } from '../engine/runbooks/format.js';
import { table } from './format.js';

/*
 * The runbook verbs: list, import, export, rehearse (sandbox) or execute live (server), the
 * rehearsal history and its report. A rehearsal runs through the same session manager as the
 * console's, so the CLI asks for the same confirmations.
 */

export interface RunbookCliContext {
  backend: Backend;
  /** The connection a rehearsal names: the server's URL, or the sandbox. */
  connectionId: string;
  json: boolean;
  out: (text: string) => void;
  /** Asks on the terminal; absent when stdin is not a TTY. */
  prompt?: (question: string) => Promise<string>;
  /** Aborts a rehearsal under way (Ctrl-C); what ran is kept. */
  signal?: AbortSignal;
}

export interface RunbookVerbOptions {
  scenario?: string;
  skip?: string;
  yes: boolean;
  format?: string;
  timeScale?: string;
}

const usage = (message: string, hint = 'Run `rewind --help` for the verbs and their arguments.') => new RewindError('VALIDATION_FAILED', message, hint);

function need(args: string[], index: number, what: string): string {
  const v = args[index];
  if (v === undefined) throw usage(`Missing ${what}.`);
  return v;
}

const shortTime = (iso: string) => iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z');

function runbooksTable(runbooks: StoredRunbook[]): string {
  return table(
    ['NAME', 'LEVEL', 'STEPS', 'SCENARIO', 'UPDATED', 'ID'],
    runbooks.map((r) => [r.name, r.level, r.runbook.steps.length, r.runbook.scenario ?? null, shortTime(r.updated_at), r.id]),
  );
}

/** paced: it timed an operator; automatic: it timed the machine (CI). */
const paceLabel = (pace: StoredRehearsal['pace']): string => (pace === 'paced' ? 'paced' : pace === 'automatic' ? 'automatic (CI)' : '-');

function rehearsalsTable(rehearsals: StoredRehearsal[]): string {
  return table(
    ['STARTED', 'RESULT', 'TIME TO RECOVER', 'PACE', 'SCENARIO', 'BY', 'ID'],
    rehearsals.map((r) => [shortTime(r.started_at), r.passed ? 'recovered' : 'failed', formatDuration(r.total_ms), paceLabel(r.pace), r.scenario, r.created_by, r.id]),
  );
}

function formatOf(value: string | undefined, fallback: 'yaml' | 'json'): 'yaml' | 'json' {
  if (value === undefined) return fallback;
  if (value !== 'yaml' && value !== 'json') throw usage(`--format takes yaml or json; got "${value}".`);
  return value;
}

/** `--skip 2,4`: 1-based step numbers. */
function skipList(raw: string | undefined): number[] {
  if (raw === undefined) return [];
  return raw.split(',').map((part) => {
    if (!/^\d+$/.test(part.trim()) || Number(part) < 1) throw usage(`--skip takes step numbers such as 2,4; got "${raw}".`);
    return Number(part);
  });
}

function timeScaleOf(raw: string | undefined): number {
  if (raw === undefined) return 1;
  const n = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(n) || n < 0 || n > 1) throw usage(`--time-scale takes a number from 0 to 1; got "${raw}".`);
  return n;
}

export async function runbookVerb(verb: string, args: string[], options: RunbookVerbOptions, cx: RunbookCliContext): Promise<number> {
  const print = (value: unknown, human: () => string) => cx.out(cx.json ? JSON.stringify(value, null, 2) : human());
  switch (verb) {
    case 'runbooks': {
      const out = await cx.backend.call('runbooks:list', {});
      print(out, () => (out.runbooks.length === 0 ? 'No runbooks.' : runbooksTable(out.runbooks)));
      return 0;
    }
    case 'runbook': {
      const sub = args[0];
      if (sub === 'import') {
        const file = need(args, 1, 'the runbook file');
        let text: string;
        try {
          text = readFileSync(file, 'utf8');
        } catch (err) {
          throw usage(`Cannot read ${file}: ${err instanceof Error ? err.message : String(err)}`, 'Give the path of a YAML or JSON runbook.');
        }
        const format = formatOf(options.format, extname(file).toLowerCase() === '.json' ? 'json' : 'yaml');
        const out = await cx.backend.call('runbooks:import', { text, format });
        print(out, () => `Imported ${out.name} (${out.id}): ${out.runbook.steps.length} steps.`);
        return 0;
      }
      if (sub === 'export') {
        const out = await cx.backend.call('runbooks:export', { runbook: need(args, 1, 'the runbook name'), format: formatOf(options.format, 'yaml') });
        // The text as is, so `rewind runbook export X > x.yaml` round-trips.
        print(out, () => out.text.replace(/\n$/, ''));
        return 0;
      }
      throw usage('runbook takes import FILE or export NAME [--format json].');
    }
    case 'rehearse':
      return rehearseVerb(need(args, 0, 'the runbook name'), options, cx);
    case 'rehearsals': {
      const out = await cx.backend.call('rehearsals:list', { runbook: need(args, 0, 'the runbook name') });
      print(out, () => (out.rehearsals.length === 0 ? 'No rehearsals yet.' : rehearsalsTable(out.rehearsals)));
      return 0;
    }
    case 'report': {
      const out = await cx.backend.call('rehearsals:report', { rehearsal_id: need(args, 0, 'the rehearsal id') });
      print(out, () => out.markdown.replace(/\n$/, ''));
      return 0;
    }
    default:
      throw usage(`Unknown verb "${verb}".`);
  }
}

const mark: Record<StepRecord['outcome'], string> = { passed: '✓', failed: '✗', skipped: '–' };

async function rehearseVerb(name: string, options: RunbookVerbOptions, cx: RunbookCliContext): Promise<number> {
  const live = cx.backend.kind === 'remote';
  const skip = skipList(options.skip);
  const timeScale = timeScaleOf(options.timeScale);
  const { runbook } = await cx.backend.call('runbooks:get', { runbook: name });
  const count = runbook.steps.length;
  const where = live ? cx.connectionId : 'the sandbox';
  // Refused before anything runs: nobody could answer a confirmation, and a half-run rehearsal proves nothing.
  if (!options.yes && !cx.prompt && runbook.steps.some((s, i) => !skip.includes(i + 1) && (s.kind === 'checklist' || (live && s.kind === 'action')))) {
    throw usage(
      `"${runbook.name}" asks for confirmations (${live ? 'its checklists and, live, every action' : 'its checklists'}), and stdin is not a terminal.`,
      'Run it in a terminal to confirm each step, or pass --yes to confirm them all.',
    );
  }

  const started = Date.now();
  const say = (text: string) => {
    if (!cx.json) cx.out(text);
  };
  const timed = (text: string) => say(`[${formatDuration(Date.now() - started).padStart(9)}] ${text}`);
  const titled = (index: number) => `${index}/${count} ${runbook.steps[index - 1]?.title ?? ''}`;

  const ask = async (index: number): Promise<boolean> => {
    const step = runbook.steps[index - 1];
    const lines = step?.kind === 'checklist' ? step.items.map((item) => `      [ ] ${item}`) : [];
    const question = step?.kind === 'checklist' ? 'All done?' : `Execute "${step?.title ?? ''}" on ${where} now?`;
    if (options.yes) {
      for (const line of lines) say(line);
      say(`    ${question} yes (--yes)`);
      return true;
    }
    // Only reached with a terminal: without one and without --yes the rehearsal was refused above.
    const reply = await cx.prompt!([...lines, `    ${question} [y/N] `].join('\n'));
    return /^y(es)?$/i.test(reply.trim());
  };

  let announced: number | null = null;
  let printedSteps = 0;
  let printedDetail: string | null = null;
  const sessions = createRehearsalSessions({
    target: () => ({ connectionId: cx.connectionId, backend: cx.backend }),
    push: (event, payload) => {
      if (event !== 'rehearsals:progress') return;
      const s = payload as RehearsalSession;
      if (s.detail !== null && s.detail !== printedDetail && (s.state === 'setting_up' || s.detail.startsWith('Scenario '))) {
        printedDetail = s.detail;
        timed(s.detail);
      }
      for (const step of s.steps.slice(printedSteps)) {
        if (step.outcome === 'skipped') timed(`${mark.skipped} ${titled(step.index)}: ${step.detail}`);
        else timed(`  ${mark[step.outcome]} ${step.outcome} in ${formatDuration(step.duration_ms)} (planned ${formatDuration(step.expected_ms)}): ${step.detail}`);
      }
      printedSteps = s.steps.length;
      if (s.current_index !== null && s.current_index !== announced) {
        announced = s.current_index;
        timed(`▶ ${titled(s.current_index)} (planned ${formatDuration(runbook.steps[s.current_index - 1]?.expected_ms ?? 0)})`);
      }
      if (s.state === 'awaiting_confirmation' && s.current_index !== null) {
        const index = s.current_index;
        void ask(index)
          .then((confirmed) => sessions.confirm({ session_id: s.session_id, index, confirmed }))
          // Aborted (Ctrl-C) while the question was open: there is nothing left to answer.
          .catch(() => undefined);
      }
    },
  });

  say(`${live ? 'Executing live' : 'Rehearsing'} "${runbook.name}" (${count} steps${options.scenario ? `, scenario ${options.scenario}` : ''}) on ${where}.`);
  // The CLI rehearses on the file it was given (--db): a copy is the operator's to make.
  // Automatic, as CI runs it (and the record says so): the clock measures the machine, not an operator.
  const session = await sessions.start({ runbook: name, scenario: options.scenario ?? null, skip_steps: skip, time_scale: timeScale, scratch: false, pace: 'automatic', reset_first: false });
  const onAbort = () => void sessions.abort(session.session_id).catch(() => undefined);
  cx.signal?.addEventListener('abort', onAbort, { once: true });
  const end = await sessions.ended(session.session_id);
  cx.signal?.removeEventListener('abort', onAbort);

  if (cx.json) cx.out(JSON.stringify(end, null, 2));
  else {
    say(end.detail ?? '');
    if (end.rehearsal_id !== null) say(`Kept as rehearsal ${end.rehearsal_id}; \`rewind report ${end.rehearsal_id}\` prints its post-incident report.`);
  }
  return end.passed === true ? 0 : 1;
}
