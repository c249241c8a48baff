// Preloaded into a benchmarked server process (node --import): its own event-loop delay, measured by
// perf_hooks, reported on SIGUSR2 as one `LOOP_DELAY {…}` line on stderr (milliseconds), then reset.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import process from 'node:process';

const delay = monitorEventLoopDelay({ resolution: 5 });
delay.enable();
process.on('SIGUSR2', () => {
  const ms = (ns) => Math.round(ns / 1e4) / 100;
  process.stderr.write(`LOOP_DELAY ${JSON.stringify({ p50: ms(delay.percentile(50)), p99: ms(delay.percentile(99)), max: ms(delay.max), samples: delay.count })}\n`);
  delay.reset();
});
