import { MUTATION_REFUSED, type MutationRefusedPayload, unauditedRefusalCodes } from '../../preload/contract/audit.js';
import { type BackendMethod, backendMethods } from '../../preload/contract/backend-methods.js';
import type { ErrorCode } from '../../preload/contract/errors.js';
import type { Engine } from '../engine/engine.js';
import { RewindError } from '../engine/errors.js';

/** A refused call, as the layer that refused it knows it. */
export interface Refusal {
  method: BackendMethod;
  /** The request's fields as far as they are known (parsed input, or a route's path parameters). */
  input: Record<string, unknown>;
  actor: string;
  error: unknown;
}

const unaudited = new Set<ErrorCode>(unauditedRefusalCodes);
const TARGET_FIELDS = ['workflow_id', 'version', 'from', 'to', 'run_id', 'runbook', 'rehearsal_id', 'name'] as const;

/** The `mutation_refused` event for a refusal, or null when it is not one the audit log keeps (see the contract). */
export function refusalEvent(r: Refusal): { type: string; workflow_id: string | null; run_id: string | null; actor: string; payload: MutationRefusedPayload } | null {
  if (!backendMethods[r.method]?.mutates || !(r.error instanceof RewindError) || unaudited.has(r.error.code)) return null;
  const target: Record<string, string | number> = {};
  for (const field of TARGET_FIELDS) {
    const value = r.input[field];
    if (typeof value === 'number' || (typeof value === 'string' && value.length <= 200)) target[field] = value;
  }
  return {
    type: MUTATION_REFUSED,
    workflow_id: typeof target.workflow_id === 'string' ? target.workflow_id : null,
    run_id: typeof target.run_id === 'string' ? target.run_id : null,
    actor: r.actor,
    payload: { method: r.method, code: r.error.code, message: r.error.message, target },
  };
}

/**
 * Appends the refusal to the engine's audit log in a transaction of its own (the refused change was
 * rolled back before we get here). The refusal is what the caller must see: if the log cannot take
 * the record (the database is busy), the refusal still goes back unchanged, and the failure is reported.
 */
export async function recordRefusal(engine: Engine, r: Refusal, report: (err: unknown) => void = () => undefined): Promise<void> {
  const event = refusalEvent(r);
  if (!event) return;
  try {
    // A run-targeted refusal belongs in its workflow's audit view too.
    if (event.workflow_id === null && event.run_id !== null) event.workflow_id = await workflowOfRun(engine, event.run_id);
    await engine.mutate(() => engine.append(event));
  } catch (err) {
    report(err);
  }
}

async function workflowOfRun(engine: Engine, runId: string): Promise<string | null> {
  try {
    return (await engine.runs.get(runId)).workflow_id;
  } catch {
    return null;
  }
}
