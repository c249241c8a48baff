/** Reconnect delays: exponential from `initialMs`, capped at `maxMs`, with "equal jitter" so a crowd of clients spreads out. */
export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
}

export function backoffDelay(attempt: number, options: BackoffOptions, random: () => number = Math.random): number {
  const ceiling = Math.min(options.maxMs, options.initialMs * 2 ** Math.min(attempt, 30));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}
