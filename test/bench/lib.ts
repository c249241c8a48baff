import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** One measured figure, printed as a ratio against a baseline measured in the same run. */
export interface BenchResult {
  name: string;
  value: number;
  unit: string;
  baseline: number;
  /** value / baseline. */
  ratio: number;
  /** The goal in words, e.g. "ratio ≥ 0.5"; `met` says whether this run met it. */
  goal?: string;
  met?: boolean;
}

export interface BenchSuite {
  name: string;
  run(): Promise<BenchResult[]>;
}

export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

export function result(
  name: string,
  value: number,
  unit: string,
  baseline: number,
  goal?: { text: string; met: (ratio: number) => boolean },
): BenchResult {
  const ratio = value / baseline;
  return goal ? { name, value, unit, baseline, ratio, goal: goal.text, met: goal.met(ratio) } : { name, value, unit, baseline, ratio };
}

/** Milliseconds from a high-resolution clock. */
export function nowMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

/** The floor's HTTP half: a bare loopback server answering every request with `answer` (JSON). */
export async function bareJsonServer(answer: string): Promise<{ url: string; close: () => Promise<void> }> {
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(answer) });
      res.end(answer);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
