/*
 * `npm run bench`: every suite, printed as a table of ratios against baselines measured in the same
 * run; `npm run bench -- --json` prints `{name: {value, unit, baseline, ratio, goal, met}}`.
 * `--only NAME` runs one suite, and the suites named NAME-… with it (`--only history` runs history,
 * history-console and history-retention).
 */
import { asOfSuite } from './as-of.bench.js';
import { canarySuite } from './canary.bench.js';
import { cliSuite } from './cli.bench.js';
import { consoleSwitchSuite } from './console-switch.bench.js';
import { engineSuite } from './engine.bench.js';
import { historyConsoleSuite } from './history-console.bench.js';
import { historyRetentionSuite } from './history-retention.bench.js';
import { historySuite } from './history.bench.js';
import { realNodesSuite } from './real-nodes.bench.js';
import { replicasSuite } from './replicas.bench.js';
import { rendererSuite } from './renderer.bench.js';
import { schedulesSuite } from './schedules.bench.js';
import { serverSuite } from './server.bench.js';
import { signInSuite } from './sign-in.bench.js';
import { webhooksSuite } from './webhooks.bench.js';
import type { BenchResult, BenchSuite } from './lib.js';

const suites: BenchSuite[] = [engineSuite, serverSuite, rendererSuite, consoleSwitchSuite, cliSuite, realNodesSuite, replicasSuite, canarySuite, schedulesSuite, webhooksSuite, historyConsoleSuite, signInSuite, historyRetentionSuite, historySuite, asOfSuite];

const args = process.argv.slice(2);
const json = args.includes('--json');
const onlyAt = args.indexOf('--only');
const only = onlyAt >= 0 ? args[onlyAt + 1] : undefined;

const fmt = (n: number) => (Math.abs(n) >= 100 ? n.toFixed(0) : Math.abs(n) >= 1 ? n.toFixed(2) : n.toFixed(4));

const all: Array<BenchResult & { suite: string }> = [];
for (const suite of suites) {
  if (only && suite.name !== only && !suite.name.startsWith(`${only}-`)) continue;
  if (!json) process.stderr.write(`running ${suite.name}…\n`);
  for (const r of await suite.run()) all.push({ ...r, suite: suite.name });
}

if (json) {
  const out: Record<string, Omit<BenchResult, 'name'>> = {};
  for (const { name, suite, ...rest } of all) out[`${suite}: ${name}`] = rest;
  process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
} else {
  const rows = all.map((r) => [r.suite, r.name, `${fmt(r.value)} ${r.unit}`, `${fmt(r.baseline)} ${r.unit}`, `${r.ratio < 0.1 ? r.ratio.toFixed(3) : r.ratio.toFixed(2)}×`, r.goal ? `${r.goal}: ${r.met ? 'met' : 'NOT met'}` : '']);
  const head = ['suite', 'measure', 'value', 'baseline', 'ratio', 'goal'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ');
  console.log(line(head));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of rows) console.log(line(r));
}
