import { type ChildServer, api, killHard, spawnServer } from '../server/harness.js';

/** Replicas of the workflow server as real processes (the compiled `rewind-server`), for kill -9. */

export interface Checkpoint {
  seq: number;
  node_id: string;
  status: string;
  state: unknown;
  created_at: string;
}

export interface Event {
  seq: number;
  type: string;
  run_id: string | null;
  payload: Record<string, unknown>;
  hash: string;
  prev_hash: string;
}

/** A replica process that can be killed and started again under the same id. */
export class ReplicaProcess {
  child: ChildServer | null = null;
  constructor(
    readonly id: string,
    private readonly args: string[],
    private readonly env: Record<string, string> = {},
  ) {}

  get url(): string {
    if (!this.child) throw new Error(`replica ${this.id} is not running`);
    return this.child.url;
  }

  get alive(): boolean {
    return this.child !== null;
  }

  async start(): Promise<this> {
    this.child = await spawnServer([...this.args, '--replica-id', this.id], this.env, 60_000);
    return this;
  }

  /** SIGKILL: no shutdown, no lease released, transactions in flight lost. */
  async kill(): Promise<void> {
    const child = this.child;
    this.child = null;
    if (child) await killHard(child);
  }
}

export async function checkpointsOf(url: string, token: string, runId: string): Promise<Checkpoint[]> {
  const res = await api(url, token, 'GET', `/api/v1/runs/${runId}/checkpoints`);
  if (res.status !== 200) throw new Error(`checkpoints of ${runId}: ${res.status} ${JSON.stringify(res.json)}`);
  return (res.json as { checkpoints: Checkpoint[] }).checkpoints;
}

export async function allEvents(url: string, token: string): Promise<Event[]> {
  const events: Event[] = [];
  for (;;) {
    const res = await api(url, token, 'GET', `/api/v1/events?after=${events.length ? events[events.length - 1]!.seq : 0}&limit=10000`);
    if (res.status !== 200) throw new Error(`events: ${res.status} ${JSON.stringify(res.json)}`);
    const page = (res.json as { events: Event[] }).events;
    events.push(...page);
    if (page.length < 10_000) return events;
  }
}
