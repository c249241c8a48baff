import { api, dsls, uniqueName } from '../server/harness.js';
import { type Checkpoint, type Event, ReplicaProcess, allEvents, checkpointsOf } from './processes.js';

/**
 * Three replica processes on one PostgreSQL database under concurrent rollbacks, drafts, run starts
 * and checkpoints, with a random replica killed (SIGKILL) and started again, over and over. Shared by
 * the test (which asserts) and the bench (which counts more kills).
 */

export type Ack =
  | { kind: 'draft'; version: number; version_id: string }
  | { kind: 'rollback'; version: number; seq: number }
  | { kind: 'run'; run_id: string }
  | { kind: 'checkpoint'; run_id: string; checkpoint: Checkpoint };

export const RUN_NODES = 5;
/** Five nodes of 60 ms at time scale 1: a run spans several kills' worth of moments. */
const runDsl = {
  defaults: {},
  nodes: Array.from({ length: RUN_NODES }, (_, i) => ({ id: `n${i + 1}`, type: 'task' as const, params: { duration_ms: 60 }, next: i + 1 < RUN_NODES ? [`n${i + 2}`] : [] })),
};

export interface KillLoopResult {
  kills: number;
  acks: Ack[];
  workflowId: string;
  runWorkflowId: string;
  /** Acknowledged writes per second over the loop. */
  ackedPerSecond: number;
}

/** A small deterministic generator, so a failing round can be replayed from its seed. */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function replicaProcesses(url: string, admin: string, leaseMs: number, prefix = 'kl'): ReplicaProcess[] {
  const args = ['--db', url, '--port', '0', '--time-scale', '1', '--lease-ms', String(leaseMs)];
  return [0, 1, 2].map((i) => new ReplicaProcess(`${prefix}-${i}`, args, { REWIND_ADMIN_TOKEN: admin }));
}

export async function killLoop(replicas: ReplicaProcess[], admin: string, kills: number, seed = 9): Promise<KillLoopResult> {
  const rnd = random(seed);
  const live = () => replicas.filter((r) => r.alive);
  const pick = () => {
    const up = live();
    return up[Math.floor(rnd() * up.length)]?.url;
  };
  const first = replicas[0]!.url;
  const created = await api(first, admin, 'POST', '/api/v1/workflows', { name: uniqueName('kill-loop'), dsl: dsls.v1 });
  const workflowId = (created.json as { id: string }).id;
  await api(first, admin, 'POST', `/api/v1/workflows/${workflowId}/versions`, { dsl: dsls.v2 });
  await api(first, admin, 'POST', `/api/v1/workflows/${workflowId}/versions/2/publish`);
  const runWf = await api(first, admin, 'POST', '/api/v1/workflows', { name: uniqueName('kill-loop-runs'), dsl: runDsl });
  const runWorkflowId = (runWf.json as { id: string }).id;

  const acks: Ack[] = [];
  const runs: string[] = [];
  let going = true;
  const writer = async (n: number) => {
    for (let i = 0; going; i++) {
      const url = pick();
      if (!url) {
        await new Promise((r) => setTimeout(r, 20));
        continue;
      }
      try {
        const op = (n + i) % 5;
        if (op === 0) {
          const r = await api(url, admin, 'POST', `/api/v1/workflows/${workflowId}/versions`, { change_log: `writer ${n} op ${i}` });
          if (r.status === 200) {
            const v = r.json as { version: number; version_id: string };
            acks.push({ kind: 'draft', version: v.version, version_id: v.version_id });
          }
        } else if (op === 1 || op === 2) {
          const target = op === 1 ? 1 : 2;
          const r = await api(url, admin, 'POST', `/api/v1/workflows/${workflowId}/versions/${target}/rollback`);
          if (r.status === 200) acks.push({ kind: 'rollback', version: target, seq: (r.json as { seq: number }).seq });
        } else if (op === 3) {
          const r = await api(url, admin, 'POST', `/api/v1/workflows/${runWorkflowId}/runs`, {});
          if (r.status === 200) {
            const runId = (r.json as { run_id: string }).run_id;
            acks.push({ kind: 'run', run_id: runId });
            runs.push(runId);
          }
        } else if (runs.length > 0) {
          // A checkpoint read back from a replica is acknowledged: it must stay exactly as read.
          const runId = runs[Math.floor(rnd() * runs.length)]!;
          for (const c of await checkpointsOf(url, admin, runId)) acks.push({ kind: 'checkpoint', run_id: runId, checkpoint: c });
        }
      } catch {
        // The replica died under the request: nothing unanswered counts as acknowledged.
      }
    }
  };
  const started = performance.now();
  const writers = Promise.all([0, 1, 2, 3].map(writer));
  let done = 0;
  // A killed replica starts again in the background while the others keep serving; the next kill
  // waits until two replicas are up, so the service itself never goes away.
  const restarts = new Set<Promise<unknown>>();
  try {
    for (; done < kills; done++) {
      await new Promise((r) => setTimeout(r, 150 + Math.floor(rnd() * 500)));
      while (live().length < 2) await Promise.race(restarts);
      const up = live();
      const victim = up[Math.floor(rnd() * up.length)]!;
      await victim.kill();
      const restart = victim.start().finally(() => restarts.delete(restart));
      restarts.add(restart);
    }
  } finally {
    await Promise.all(restarts);
    going = false;
    await writers;
  }
  const seconds = (performance.now() - started) / 1000;
  return { kills: done, acks, workflowId, runWorkflowId, ackedPerSecond: acks.filter((a) => a.kind !== 'checkpoint').length / seconds };
}

/** Waits until no run is queued, running or waiting (each was finished or taken over and finished). */
export async function settle(url: string, admin: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let unfinished = 0;
    for (const status of ['queued', 'running', 'waiting']) {
      const res = await api(url, admin, 'GET', `/api/v1/runs?status=${status}&limit=1`);
      unfinished += (res.json as { total: number }).total;
    }
    if (unfinished === 0) return;
    if (Date.now() > deadline) throw new Error(`${unfinished} runs still unfinished after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** What the checks found, for the assertions and the bench's report. */
export interface Audit {
  events: Event[];
  /** seq numbers missing from 1..head. */
  gaps: number[];
  /** Replicas whose log differs from the first one's (a fork). */
  forks: string[];
  chainOk: boolean[];
  lost: Ack[];
  /** Runs with a node checkpointed twice or a hole in their checkpoint seqs. */
  doubled: string[];
  /** Runs that did not checkpoint every node. */
  incomplete: string[];
  takeovers: number;
}

export async function audit(replicas: ReplicaProcess[], admin: string, result: KillLoopResult): Promise<Audit> {
  const url = replicas[0]!.url;
  const logs = await Promise.all(replicas.map((r) => allEvents(r.url, admin)));
  const events = logs[0]!;
  const gaps: number[] = [];
  events.forEach((e, i) => {
    if (e.seq !== i + 1) gaps.push(i + 1);
  });
  const fingerprint = (log: Event[]) => log.map((e) => `${e.seq}:${e.hash}`).join(',');
  const forks = replicas.filter((_, i) => fingerprint(logs[i]!) !== fingerprint(events)).map((r) => r.id);
  const chainOk = await Promise.all(replicas.map(async (r) => ((await api(r.url, admin, 'GET', '/api/v1/events/verify')).json as { ok: boolean }).ok));
  const bySeq = new Map(events.map((e) => [e.seq, e]));
  const lost: Ack[] = [];
  const checkpoints = new Map<string, Checkpoint[]>();
  const of = async (runId: string) => {
    let found = checkpoints.get(runId);
    if (!found) checkpoints.set(runId, (found = await checkpointsOf(url, admin, runId)));
    return found;
  };
  for (const ack of result.acks) {
    if (ack.kind === 'draft') {
      const v = await api(url, admin, 'GET', `/api/v1/workflows/${result.workflowId}/versions/${ack.version}`);
      if (v.status !== 200 || (v.json as { version_id: string }).version_id !== ack.version_id) lost.push(ack);
    } else if (ack.kind === 'rollback') {
      const e = bySeq.get(ack.seq);
      if (e?.type !== 'workflow_rollback' || e.payload.to_version !== ack.version) lost.push(ack);
    } else if (ack.kind === 'run') {
      const r = await api(url, admin, 'GET', `/api/v1/runs/${ack.run_id}`);
      if (r.status !== 200) lost.push(ack);
    } else {
      const kept = (await of(ack.run_id)).find((c) => c.seq === ack.checkpoint.seq);
      if (JSON.stringify(kept) !== JSON.stringify(ack.checkpoint)) lost.push(ack);
    }
  }
  const doubled: string[] = [];
  const incomplete: string[] = [];
  for (const ack of result.acks) {
    if (ack.kind !== 'run') continue;
    const cps = await of(ack.run_id);
    const nodes = cps.map((c) => c.node_id);
    if (new Set(nodes).size !== nodes.length || cps.some((c, i) => c.seq !== i + 1)) doubled.push(ack.run_id);
    if (new Set(nodes).size !== RUN_NODES) incomplete.push(ack.run_id);
  }
  return { events, gaps, forks, chainOk, lost, doubled, incomplete, takeovers: events.filter((e) => e.type === 'run_taken_over').length };
}
