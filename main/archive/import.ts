import { mkdirSync, renameSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import type Database from 'better-sqlite3';
import { openDatabase } from '../engine/store/sqlite/database.js';
import { INSERT_CHECKPOINT, INSERT_META, INSERT_RUN, INSERT_VERSION, INSERT_WORKFLOW, copiedRunRow, writeCheckpoints } from '../snapshots/copy-rows.js';
import { ARCHIVE_META } from '../snapshots/sandbox-file.js';
import { type ArchiveEnd, type ArchiveHeader, readArchive } from './archive-file.js';

/*
 * An archive opened in the console: its workflows, versions, runs and checkpoints written into a
 * sandbox file of their own (made by the engine's migrations, like a snapshot), which opens read-only
 * (`archive_*` rows in `meta` say so, see sandbox-file.ts). It has no events: the log stayed on the
 * server. Its runs are recorded as the snapshot runner's, so nothing executes, interrupts or takes
 * them over.
 */

const BATCH = 500;

/** Imports `archivePath` into a new sandbox file at `dbPath` (written aside, then renamed: never half a file). */
export async function importArchive(archivePath: string, dbPath: string): Promise<{ header: ArchiveHeader; end: ArchiveEnd }> {
  mkdirSync(dirname(dbPath), { recursive: true });
  const building = `${dbPath}.importing`;
  for (const suffix of ['', '-wal', '-shm']) rmSync(`${building}${suffix}`, { force: true });
  const { db } = openDatabase(building);
  let header: ArchiveHeader | null = null;
  let end: ArchiveEnd | null = null;
  try {
    const insert = statements(db);
    let pending: Array<() => void> = [];
    // A resumed run's parent ended before it: it is in the file already, unless the range began after it.
    const runs = new Set<string>();
    const flush = () => {
      const work = pending;
      pending = [];
      db.transaction(() => work.forEach((w) => w()))();
    };
    for await (const line of readArchive(archivePath, (h) => (header = h))) {
      if (line.kind === 'workflow') {
        const { template, canary: _canary, failed_runs: _failed, ...w } = line.workflow;
        pending.push(() => insert.workflow.run({ ...w, template_name: template?.name ?? null, template_version: template?.version ?? null }));
      } else if (line.kind === 'version') {
        const v = line.version;
        pending.push(() => insert.version.run({ ...v, dsl_definition: JSON.stringify(v.dsl_definition) }));
      } else if (line.kind === 'run') {
        const { run, checkpoints } = line;
        const parent = run.parent_run_id !== null && runs.has(run.parent_run_id) ? run.parent_run_id : null;
        runs.add(run.run_id);
        pending.push(() => {
          insert.run.run(copiedRunRow(run, parent));
          writeCheckpoints(insert.checkpoint, checkpoints);
        });
      } else {
        end = line;
      }
      if (pending.length >= BATCH) flush();
    }
    flush();
    db.transaction(() => {
      insert.meta.run(ARCHIVE_META.header, JSON.stringify(header));
      insert.meta.run(ARCHIVE_META.source, archivePath);
      insert.meta.run(ARCHIVE_META.end, JSON.stringify(end));
    })();
    db.pragma('wal_checkpoint(TRUNCATE)');
    db.close();
    renameSync(building, dbPath);
    for (const suffix of ['-wal', '-shm']) rmSync(`${building}${suffix}`, { force: true });
  } catch (err) {
    if (db.open) db.close();
    for (const suffix of ['', '-wal', '-shm']) rmSync(`${building}${suffix}`, { force: true });
    throw err;
  }
  return { header: header!, end: end! };
}

function statements(db: Database.Database) {
  return {
    meta: db.prepare(INSERT_META),
    workflow: db.prepare(INSERT_WORKFLOW),
    version: db.prepare(INSERT_VERSION),
    run: db.prepare(INSERT_RUN),
    checkpoint: db.prepare(INSERT_CHECKPOINT),
  };
}
