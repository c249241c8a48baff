import type { BackendMethod, MethodOutput, ParsedInput } from '../../preload/contract/backend-methods.js';

/**
 * How the engine backend answers one method. A mutation comes in two parts: `apply` runs inside
 * the unit of work (its answer is what an idempotency key stores); `finish`, after commit, may wait
 * (for a run to end) before answering.
 */
export interface Handler<M extends BackendMethod> {
  apply(input: ParsedInput<M>, actor: string): Promise<unknown>;
  finish?(applied: never, input: ParsedInput<M>): Promise<MethodOutput<M>>;
}
