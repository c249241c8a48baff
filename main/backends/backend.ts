import type { BackendMethod, MethodInput, MethodOutput, RewindEvent } from '../../preload/contract/index.js';

/** Who is calling and how: the actor recorded in the audit log, and a key that makes a retried mutation apply once. */
export interface CallContext {
  actor?: string;
  idempotencyKey?: string;
}

/*
 * subscription: connecting → live ⇄ reconnecting → closed
 * Events arrive in seq order, each exactly once, across reconnects.
 */
export type SubscriptionState = 'connecting' | 'live' | 'reconnecting' | 'refused' | 'closed';

export interface SubscribeOptions {
  /** Deliver every event with seq > after (0: from the start). */
  after: number;
  onEvent: (event: RewindEvent) => void;
  onState?: (state: SubscriptionState, detail?: string) => void;
}

/**
 * The one interface the console talks to. Two implementations: the sandbox (engine in-process)
 * and remote (HTTP + WebSocket client of a workflow server). Inputs are parsed against the
 * contract by every implementation before they reach the engine or the wire; failures are thrown
 * as `RewindError`.
 */
export interface Backend {
  readonly kind: 'sandbox' | 'remote';
  call<M extends BackendMethod>(method: M, input: MethodInput<M>, ctx?: CallContext): Promise<MethodOutput<M>>;
  subscribe(options: SubscribeOptions): () => void;
  close(): Promise<void>;
  /**
   * Headers that authenticate a plain HTTP request to `url` as this connection (a runbook's http or
   * metrics check of the server's own /metrics). Only for the server's own origin; a sandbox has none.
   */
  credentialsFor?(url: string): Promise<Record<string, string>>;
}
