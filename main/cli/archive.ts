import type { EngineBackend } from '../backends/engine-backend.js';
import { RewindError } from '../engine/errors.js';
import { parseRetention } from '../engine/retention.js';
import type { Checkpoint, Run, Workflow } from '../../preload/contract/index.js';
import { type ArchiveEnd, type ArchiveHeader, readArchive } from '../archive/archive-file.js';
import { exportArchive } from '../archive/export.js';
import { checkpointsTable, prunedNote, runDetail, table } from './format.js';
import type { CliIo } from './preflight.js';

/*
 * `rewind archive --before DATE --out FILE` (export), `rewind archive --open FILE [RUN [SEQ]]`
 * (browse, without any backend) and `rewind prune` (a retention pass on the sandbox).
 */

interface ArchiveSession {
  backend: import('../backends/backend.js').Backend;
  remote: { health(): Promise<{ schema_version: number }> } | null;
  source: string;
  json: boolean;
  out: (text: string) => void;
  io: CliIo;
}

interface Flags {
  before?: string | undefined;
  after?: string | undefined;
  out?: string | undefined;
  workflow?: string | undefined;
  status?: string | undefined;
  limit?: string | undefined;
  'retain-runs'?: string | undefined;
  'keep-failed-checkpoints'?: boolean | undefined;
  'dry-run'?: boolean | undefined;
  vacuum?: boolean | undefined;
}

function usage(message: string, hint: string): RewindError {
  return new RewindError('VALIDATION_FAILED', message, hint);
}

function isoArg(value: string | undefined, flag: string): string | undefined {
  if (value === undefined) return undefined;
  if (!/^\d{4}-\d{2}-\d{2}/.test(value) || !Number.isFinite(Date.parse(value))) throw usage(`${flag} must be a date or time; got "${value}".`, `e.g. ${flag} 2026-09-01 (UTC) or 2026-09-01T00:00:00Z.`);
  return new Date(value).toISOString();
}

export async function archiveExport(s: ArchiveSession, v: Flags): Promise<number> {
  const before = isoArg(v.before, '--before');
  if (!before || v.out === undefined) throw usage('An archive needs --before DATE and --out FILE.', 'e.g. rewind archive --before 2026-09-01 --out runs-before-2026-09.ndjson.gz');
  const after = isoArg(v.after, '--after');
  const schema = s.remote ? (await s.remote.health()).schema_version : (s.backend as EngineBackend).engine.schemaVersion;
  const done = await exportArchive({
    backend: s.backend,
    server: s.source,
    schema,
    before,
    ...(after ? { after } : {}),
    out: v.out,
    onProgress: (runs) => {
      if (!s.json) s.io.stderr(`rewind: ${runs} runs archived…`);
    },
  });
  s.out(
    s.json
      ? JSON.stringify({ path: done.path, header: done.header, ...done.end }, null, 2)
      : `Archived ${done.end.runs} runs (${done.end.checkpoints} checkpoints, ${done.end.workflows} workflows, ${done.end.versions} versions) that ended before ${before} to ${done.path}.`,
  );
  return 0;
}

/** Browses an archive file: no server, no sandbox. */
export async function archiveOpen(path: string, args: string[], v: Flags, json: boolean, out: (text: string) => void): Promise<number> {
  const [runId, seqRaw] = args;
  const seq = seqRaw === undefined ? undefined : Number(seqRaw);
  if (seq !== undefined && (!Number.isInteger(seq) || seq < 1)) throw usage(`The checkpoint seq must be a whole number from 1; got "${seqRaw}".`, 'e.g. rewind archive --open FILE RUN 3');
  const limit = v.limit === undefined ? 100 : Number(v.limit);
  if (!Number.isInteger(limit) || limit < 1) throw usage(`--limit must be a whole number from 1; got "${v.limit}".`, 'e.g. --limit 50');
  let header: ArchiveHeader | null = null;
  let end: ArchiveEnd | null = null;
  const workflows = new Map<string, Workflow>();
  const listed: Run[] = [];
  const counts = new Map<string, number>();
  let matched = 0;
  let found: { run: Run; checkpoints: Checkpoint[] } | null = null;
  for await (const line of readArchive(path, (h) => (header = h))) {
    if (line.kind === 'workflow') workflows.set(line.workflow.id, line.workflow);
    else if (line.kind === 'end') end = line;
    else if (line.kind === 'run') {
      if (runId !== undefined) {
        if (line.run.run_id === runId) found = { run: line.run, checkpoints: line.checkpoints };
        continue;
      }
      const wf = workflows.get(line.run.workflow_id);
      if (v.workflow !== undefined && v.workflow !== line.run.workflow_id && v.workflow !== wf?.name) continue;
      if (v.status !== undefined && v.status !== line.run.status) continue;
      matched += 1;
      if (listed.length < limit) {
        listed.push(line.run);
        counts.set(line.run.run_id, line.checkpoints.length);
      }
    }
  }
  const h = header!;
  const e = end!;
  if (runId !== undefined) {
    if (!found) throw new RewindError('RUN_NOT_FOUND', `The archive ${path} holds no run ${runId}.`, 'Run `rewind archive --open FILE` to list its runs.', { run_id: runId });
    if (seq !== undefined) {
      const c = found.checkpoints.find((x) => x.seq === seq);
      if (!c) throw new RewindError('CHECKPOINT_NOT_FOUND', `Run ${runId} has no checkpoint ${seq} in the archive.`, `Its checkpoints: ${found.checkpoints.map((x) => x.seq).join(', ') || 'none'}.`, { run_id: runId, seq });
      out(json ? JSON.stringify(c, null, 2) : `checkpoint ${c.seq} of ${c.run_id}: ${c.node_id} ${c.status}\n${JSON.stringify(c.state, null, 2)}`);
      return 0;
    }
    out(json ? JSON.stringify(found, null, 2) : `${runDetail(found.run)}\n${found.checkpoints.length === 0 ? (found.run.pruned_at ? prunedNote(found.run) : 'No checkpoints.') : checkpointsTable(found.checkpoints)}`);
    return 0;
  }
  if (json) {
    out(JSON.stringify({ header: h, end: e, matched, runs: listed }, null, 2));
    return 0;
  }
  const range = `${h.range.after ? `from ${h.range.after} ` : ''}before ${h.range.before}`;
  out(
    [
      `Archive of ${h.server} (schema ${h.schema}), made ${h.created_at}: runs that ended ${range}`,
      `${e.runs} runs, ${e.checkpoints} checkpoints, ${e.workflows} workflows, ${e.versions} versions`,
      listed.length === 0
        ? 'No runs match.'
        : table(
            ['RUN', 'WORKFLOW', 'VERSION', 'STATUS', 'ENDED', 'CHECKPOINTS'],
            listed.map((r) => [r.run_id, workflows.get(r.workflow_id)?.name ?? r.workflow_id, `v${r.version}`, r.status, r.finished_at, counts.get(r.run_id) ?? 0]),
          ),
      matched > listed.length ? `(${listed.length} of ${matched} shown; --limit N for more, --workflow and --status to narrow, RUN for one run's checkpoints)` : '',
    ]
      .filter(Boolean)
      .join('\n'),
  );
  return 0;
}

/** `rewind prune`: one retention pass on the sandbox now, a preview of one, or the SQLite file rebuilt for incremental vacuum. */
export async function prune(s: ArchiveSession, v: Flags): Promise<number> {
  if (s.remote) throw usage('A workflow server prunes itself.', 'Start it with --retain-runs 90d (or REWIND_RETAIN_RUNS); `rewind archive --server URL …` exports runs before they go.');
  const backend = s.backend as EngineBackend;
  const engine = backend.engine;
  if (v.vacuum) {
    const { SqliteStore } = await import('../engine/store/sqlite/sqlite-store.js');
    if (!(engine.store instanceof SqliteStore)) throw usage('--vacuum rebuilds a SQLite file.', 'PostgreSQL gives pruned space back through autovacuum.');
    const others = await engine.otherLiveRunners();
    if (others > 0) {
      throw new RewindError('BUSY', `${others} other process(es) have ${s.source} open.`, 'Stop the server (and close consoles) using this file, then run `rewind prune --vacuum` again: VACUUM rewrites the whole file.', { processes: others });
    }
    const r = await engine.store.vacuum();
    s.out(s.json ? JSON.stringify(r, null, 2) : `Rebuilt ${s.source} with incremental auto_vacuum: ${mb(r.before_bytes)} → ${mb(r.after_bytes)}. Pruned space is given back from now on.`);
    return 0;
  }
  const window = v['retain-runs'] ?? (s.io.env.REWIND_RETAIN_RUNS || undefined);
  if (window === undefined) throw usage('prune needs --retain-runs WINDOW (or REWIND_RETAIN_RUNS).', 'e.g. rewind prune --retain-runs 90d --dry-run');
  const policy = { ...parseRetention(window), keepFailedCheckpoints: v['keep-failed-checkpoints'] === true };
  if (v['dry-run']) {
    const p = await engine.previewPrune(policy);
    s.out(
      s.json
        ? JSON.stringify({ dry_run: true, ...p }, null, 2)
        : `Would prune ${p.runs} runs that ended before ${p.before} (${p.checkpoints} checkpoints${policy.keepFailedCheckpoints ? ', less the last one of each failed run' : ''}), and delete ${p.idempotency_keys} idempotency keys, ${p.schedule_ticks} schedule ticks and ${p.webhook_deliveries} webhook deliveries. Nothing was changed.`,
    );
    return 0;
  }
  const r = await engine.prune(policy);
  if (!r) throw new RewindError('BUSY', 'Another process is pruning this sandbox now.', 'Wait for its pass to end, then run prune again.');
  s.out(
    s.json
      ? JSON.stringify(r, null, 2)
      : `Pruned ${r.runs} runs that ended before ${r.before} (${r.checkpoints} checkpoints removed); deleted ${r.idempotency_keys} idempotency keys, ${r.schedule_ticks} schedule ticks, ${r.webhook_deliveries} webhook deliveries.${r.event_seq === null ? '' : ` Recorded as event ${r.event_seq} (runs_pruned).`}${r.reclaimed.mode === 'reuse-only' ? ' The file keeps its size (freed pages are reused); `rewind prune --vacuum` makes it give space back.' : ''}`,
  );
  return 0;
}

function mb(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}
