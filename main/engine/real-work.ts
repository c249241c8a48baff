import type { Run } from '../../preload/contract/entities.js';
import type { EngineCore } from './core.js';
import { RewindError } from './errors.js';
import type { ApprovalParams, RealNode } from './dsl/node-params.js';
import { isReservedKey } from './dsl/paths.js';
import type { ExternalAnswer, ExternalRequest } from './executor/executor.js';
import { runCommandNode } from './executor/command-node.js';
import { runHttpNode } from './executor/http-node.js';
import { type RealNodeLimits, sleep } from './executor/real-node.js';
import type { SecretSource } from './executor/secrets.js';
import type { Egress } from './egress/egress.js';

const SET_WAITING = "UPDATE runs SET status = 'waiting' WHERE run_id = ? AND status = 'running'";
const SET_RUNNING = "UPDATE runs SET status = 'running' WHERE run_id = ? AND status = 'waiting'";
const SELECT_RUN_STATUS = 'SELECT status, workflow_id FROM runs WHERE run_id = ?';
const SELECT_LAST_REQUEST = "SELECT payload FROM events WHERE workflow_id = ? AND run_id = ? AND type = 'approval_requested' ORDER BY seq DESC LIMIT 1";
const SELECT_LAST_APPROVAL_EVENT =
  "SELECT type, actor, payload FROM events WHERE workflow_id = ? AND run_id = ? AND type IN ('approval_requested', 'approval_given', 'approval_denied') ORDER BY seq DESC LIMIT 1";
const SELECT_DONE = 'SELECT node_id, status FROM checkpoints WHERE run_id = ? ORDER BY seq';
/** The events that answer an approval: `approval_given` (approve; a deny before approval_denied existed), `approval_denied`. */
const ANSWERS: ReadonlySet<string> = new Set(['approval_given', 'approval_denied']);

interface Answer {
  decision: 'approve' | 'deny';
  comment: string | null;
}

function answered(nodeId: string, answer: Answer, by: string): ExternalAnswer {
  return answer.decision === 'approve'
    ? { ok: true, output: { decision: answer.decision, by, comment: answer.comment } }
    : { ok: false, denied: true, error: `Approval node '${nodeId}': denied by ${by}${answer.comment ? `: ${answer.comment}` : ''}.` };
}

export interface RealWorkOptions {
  secrets: SecretSource;
  limits?: Partial<RealNodeLimits>;
  /** Real ms per simulated ms, for a wait node in an offline sandbox (a live engine waits for real). */
  timeScale: number;
  maxNodeDelayMs: number;
  live: boolean;
  /** False on a server started without --allow-commands: a command node fails instead of running. */
  allowCommands: boolean;
  /** See EngineOptions.serverContext. */
  serverContext?: Promise<Record<string, unknown>>;
  /** The egress policy http nodes connect through (see EngineOptions.egress). */
  egress?: Egress;
}

/**
 * What the run driver does for the nodes the pure executor hands back: http and command calls, wait
 * timers, and approval gates. Each answer comes back with secrets already redacted.
 *
 * approval: running → waiting (event approval_requested) → running (approval_given or
 * approval_denied, or the timeout), and the node succeeds on approve, fails on a timeout, and ends
 * the run `denied` on a deny (an outcome, not a failure). The answer is heard as its event, so an
 * answer committed by another process on the same file counts too.
 */
export class RealWork {
  constructor(
    private readonly core: EngineCore,
    private readonly options: RealWorkOptions,
  ) {}

  /** Performs one node; `synchronous` is the demo seeding's inline mode, where nothing may wait. */
  async perform(run: Run, request: ExternalRequest, signal: AbortSignal, synchronous: boolean): Promise<ExternalAnswer> {
    const node: RealNode = request.node;
    let context = request.context;
    if ((node.type === 'http' || node.type === 'command') && this.options.serverContext) {
      const lent = await untilAborted(this.options.serverContext, signal);
      if (lent === null) return { ok: false, error: `Node '${node.id}': the run stopped before the server was listening.` };
      // Over the run's own values: the server owns these keys, so no param, default or node output can redirect a request.
      const stray = Object.keys(lent).find((k) => !isReservedKey(k));
      if (stray !== undefined) return { ok: false, error: `Node '${node.id}': the server lends '${stray}', which is not a reserved context key (a run could set it).` };
      context = { ...request.context, ...lent };
    }
    const base = { context, secrets: this.options.secrets, runId: run.run_id, nodeId: node.id, signal, ...(this.options.limits ? { limits: this.options.limits } : {}), ...(this.options.egress ? { egress: this.options.egress } : {}) };
    switch (node.type) {
      case 'http':
        return runHttpNode(node.params, request.keep ? { ...base, keep: request.keep } : base);
      case 'command':
        if (!this.options.allowCommands) {
          return {
            ok: false,
            error: `Command node '${node.id}': commands are not allowed to run here; start the server with --allow-commands (a live sandbox: allow commands in its live execution settings, or pass --allow-commands to rewind).`,
          };
        }
        return runCommandNode(node.params, base);
      case 'wait': {
        const ms = this.options.live ? node.params.duration_ms : Math.min(node.params.duration_ms * this.options.timeScale, this.options.maxNodeDelayMs);
        if (synchronous) this.core.advance(node.params.duration_ms);
        else await sleep(ms, signal);
        return { ok: true, output: { waited_ms: node.params.duration_ms } };
      }
      case 'approval':
        if (synchronous) return { ok: false, error: `Approval node '${node.id}' cannot wait for an answer while history is being seeded.` };
        return this.gate(run, node.id, node.params, signal);
    }
  }

  private gate(run: Run, nodeId: string, params: ApprovalParams, signal: AbortSignal): Promise<ExternalAnswer> {
    return new Promise<ExternalAnswer>((resolve) => {
      let settled = false;
      let timer: NodeJS.Timeout | undefined;
      const settle = (answer: ExternalAnswer) => {
        if (settled) return;
        settled = true;
        off();
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        resolve(answer);
      };
      const off = this.core.onEvent((e) => {
        if (!ANSWERS.has(e.type) || e.run_id !== run.run_id) return;
        settle(answered(nodeId, e.payload as unknown as Answer, e.actor));
      });
      const onAbort = () => settle({ ok: false, error: `Approval node '${nodeId}': the run stopped while waiting.` });
      signal.addEventListener('abort', onAbort, { once: true });
      // Stopped before the gate was reached (closed as the run started): an abort already sent fires no event.
      if (signal.aborted) return onAbort();
      const timeOut = async (ms: number) => {
        // An answer committed first wins: only a run still waiting times out.
        try {
          const { changes } = await this.core.mutate(() => this.core.q().run(SET_RUNNING, [run.run_id]));
          if (changes > 0) settle({ ok: false, error: `Approval node '${nodeId}': no answer within ${ms} ms.` });
        } catch (err) {
          settle({ ok: false, error: `Approval node '${nodeId}': the timeout could not be recorded (${(err as Error).message}).` });
        }
      };
      this.core
        .mutate(async () => {
          // Answered while no process ran the run (its replica died or handed it over while it
          // waited): the gate runs again after the takeover, and the acknowledged answer stands.
          const last = await this.core.q().get<{ type: string; actor: string; payload: string }>(SELECT_LAST_APPROVAL_EVENT, [run.workflow_id, run.run_id]);
          if (last && ANSWERS.has(last.type)) {
            const given = JSON.parse(last.payload) as Answer & { node_id: string | null };
            if (given.node_id === nodeId) return answered(nodeId, given, last.actor);
          }
          await this.core.q().run(SET_WAITING, [run.run_id]);
          // What an approver judges by, carried by the request itself (notifications and webhooks see only the event):
          // who asks (run, version, trigger) and what the run has done so far.
          const done = await this.core.q().all<{ node_id: string; status: string }>(SELECT_DONE, [run.run_id]);
          await this.core.append({
            type: 'approval_requested',
            workflow_id: run.workflow_id,
            run_id: run.run_id,
            actor: 'rewind',
            ts: this.core.now(),
            payload: {
              node_id: nodeId,
              version: run.version,
              prompt: params.prompt ?? null,
              timeout_ms: params.timeout_ms ?? null,
              trigger: run.trigger,
              started_by: run.created_by,
              done: done.filter((c) => c.status !== 'failed').map((c) => c.node_id),
            },
          });
          return null;
        })
        .then((given) => {
          if (given) return settle(given);
          // The timer starts once the request is recorded: a timeout must find the run waiting.
          const ms = params.timeout_ms;
          if (ms !== undefined && !settled) timer = setTimeout(() => void timeOut(ms), ms);
        })
        .catch((err: unknown) => settle({ ok: false, error: `Approval node '${nodeId}': the request could not be recorded (${(err as Error).message}).` }));
    });
  }

  /** Answers a waiting run's approval, inside the caller's mutation. */
  async approve(runId: string, decision: 'approve' | 'deny', comment: string | undefined, actor: string): Promise<void> {
    const q = this.core.q();
    const row = await q.get<{ status: Run['status']; workflow_id: string }>(SELECT_RUN_STATUS, [runId]);
    if (!row) throw new RewindError('RUN_NOT_FOUND', `No run has the id "${runId}".`, 'List the runs to find its id.', { run_id: runId });
    if (row.status !== 'waiting') {
      throw new RewindError('RUN_NOT_WAITING', `Run ${runId} is ${row.status}, not waiting for an approval.`, 'Only a run whose status is waiting can be approved or denied; list the waiting runs with --status waiting.', {
        run_id: runId,
        status: row.status,
      });
    }
    const request = await q.get<{ payload: string }>(SELECT_LAST_REQUEST, [row.workflow_id, runId]);
    const nodeId = request ? (JSON.parse(request.payload) as { node_id: string }).node_id : null;
    await q.run(SET_RUNNING, [runId]);
    await this.core.append({
      type: decision === 'approve' ? 'approval_given' : 'approval_denied',
      workflow_id: row.workflow_id,
      run_id: runId,
      actor,
      ts: this.core.now(),
      payload: { node_id: nodeId, decision, comment: comment ?? null },
    });
  }
}

/** The promise's value, or null once the signal aborts first. */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T | null> {
  if (signal.aborted) return Promise.resolve(null);
  return new Promise<T | null>((resolve, reject) => {
    const onAbort = () => resolve(null);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(err instanceof Error ? err : new Error(String(err)));
      },
    );
  });
}
