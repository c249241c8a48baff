import type { Egress } from '../egress/egress.js';
import type { SecretSource } from './secrets.js';

/** What a real node (http, command) is given by the run driver. */
export interface RealNodeContext {
  /** The run context the node's templates read. */
  context: Record<string, unknown>;
  secrets: SecretSource;
  runId: string;
  nodeId: string;
  /** Aborted when the run is cancelled or the engine closes: in-flight work stops at once. */
  signal: AbortSignal;
  limits?: Partial<RealNodeLimits>;
  /** Where an http node may connect (the engine's policy; http nodes' default where none is given). */
  egress?: Egress;
  /** An http node with `redact_response`: the paths of its answer the workflow reads ('' for the whole answer). */
  keep?: readonly string[];
}

export interface RealNodeLimits {
  /** An http answer longer than this fails the node (default 1 MB). */
  maxResponseBytes: number;
  /** How much of a command's stdout and stderr is kept (its tail); the rest is read and dropped. */
  maxOutputTailBytes: number;
}

export const defaultLimits: RealNodeLimits = { maxResponseBytes: 1024 * 1024, maxOutputTailBytes: 64 * 1024 };

/** A real node's result: its output (secrets already redacted), or why it failed (redacted too). */
export type RealNodeResult = { ok: true; output: unknown } | { ok: false; error: string };

/** Resolves after `ms`, or at once when the signal aborts. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted || ms <= 0) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}
