import { spawn } from 'node:child_process';
import Database from 'better-sqlite3';
import { openSandbox } from '../../../main/backends/engine-backend.js';
import { checkAnswersOf } from '../../support/openapi-conformance.js';
import { dsls, repoRoot, uniqueName } from '../server/harness.js';

/** A sandbox file with a few events: a workflow with two published versions and a rollback. */
export async function writeLog(path: string): Promise<number> {
  const backend = await openSandbox({ path, actor: 'writer' });
  try {
    const wf = await backend.call('workflows:create', { name: uniqueName('tamper'), dsl: dsls.v1 });
    await backend.call('versions:createDraft', { workflow_id: wf.id, dsl: dsls.v2 });
    await backend.call('versions:publish', { workflow_id: wf.id, version: 2 });
    await backend.call('versions:rollback', { workflow_id: wf.id, version: 1 });
    return await backend.engine.latestSeq();
  } finally {
    await backend.close();
  }
}

/** What an attacker with the file does: drop the append-only trigger, then edit an event in place. */
export function editEvent(path: string, seq: number): void {
  const db = new Database(path);
  db.exec('DROP TRIGGER IF EXISTS events_append_only_update');
  db.prepare("UPDATE events SET actor = 'mallory' WHERE seq = ?").run(seq);
  db.close();
}

/**
 * … or delete the newest events, moving the stored verified head back with them (as a restore from
 * an older backup leaves it): the chain that is left still verifies, and nothing in the file says
 * what it lost — only a memory outside it (a console's, the CLI's) can.
 */
export function deleteNewest(path: string, count: number): number {
  const db = new Database(path);
  const head = cutBack(db, count);
  db.prepare('UPDATE chain_verified SET seq = ?, hash = (SELECT hash FROM events WHERE seq = ?) WHERE id = 1').run(head, head);
  db.close();
  return head;
}

/** … or delete them and leave the stored verified head: the start sees that the log was cut back. */
export function deleteNewestOnly(path: string, count: number): number {
  const db = new Database(path);
  const head = cutBack(db, count);
  db.close();
  return head;
}

function cutBack(db: Database.Database, count: number): number {
  db.exec('DROP TRIGGER IF EXISTS events_append_only_delete');
  const { head } = db.prepare('SELECT MAX(seq) AS head FROM events').get() as { head: number };
  db.prepare('DELETE FROM events WHERE seq > ?').run(head - count);
  return head - count;
}

/** A log whose events no process verified yet (written before the verified head was kept, or by a writer killed before it stored it). */
export function forgetVerifiedHead(path: string): void {
  const db = new Database(path);
  db.prepare("UPDATE chain_verified SET seq = 0, hash = ? WHERE id = 1").run('0'.repeat(64));
  db.close();
}

/** The server's real entry point, run to its exit (or until it listens, then stopped by the caller). */
export function runServerCli(args: string[], env: Record<string, string> = {}): { output: () => string; exited: Promise<number | null>; kill: () => void; listening: Promise<string> } {
  const proc = spawn(process.execPath, ['--import', 'tsx', 'main/server/cli.ts', '--time-scale', '0', '--port', '0', ...args], {
    cwd: repoRoot,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let onOut = () => undefined as void;
  const listening = new Promise<string>((resolve) => {
    onOut = () => {
      const m = /listening on (\S+)/.exec(out);
      if (m) resolve(m[1]!);
    };
  });
  proc.stdout.on('data', (c: Buffer) => {
    out += c.toString();
    onOut();
  });
  proc.stderr.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  const checked = listening.then(async (url) => (await checkAnswersOf(url), url));
  return { output: () => out, exited, kill: () => proc.kill('SIGKILL'), listening: checked };
}
