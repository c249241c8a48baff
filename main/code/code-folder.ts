import { type FSWatcher, existsSync, readFileSync, watch } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Engine } from '../engine/engine.js';
import { RewindError } from '../engine/errors.js';
import { type CodeProblem, type CodeScan, type ParseLimits, contentHash, describeProblem, scanCodeFolder, startupRefusal } from './code-files.js';

/*
 * Workflows as code: a folder of workflow files kept in line with the CODE workflows of one engine.
 * A new file registers its workflow, a changed one publishes a new version (actor `code:<file>`), a
 * removed one unregisters it (the MANUAL workflow it overrode takes over again), a broken one is
 * refused with file, line and field while its workflow keeps its last good version: recorded as the
 * event `code_file_refused` once per content, and `code_file_accepted` once it is fixed or removed.
 * Several replicas may follow one folder: each change is applied under the chain-head lock only if
 * the file still holds what was read, so it is published (or refused, or unregistered) once. The folder is
 * read once at start (a folder that cannot be used refuses the start), then again after each change
 * fs.watch reports, debounced so a `git pull` touching many files is one rescan — and in full every
 * `rescanMs` whatever fs.watch says: a watch follows inodes, not paths, so a folder replaced by a
 * rename (a deploy swapping checkouts) or a file replaced by `sed -i` can leave it watching what is
 * no longer there (Node 20's recursive watch on Linux misses later edits and deletes that way). The
 * rescan bounds how long such a change goes unseen to one period.
 */

/** How often the whole folder is read again by default, changes reported or not. */
export const DEFAULT_CODE_RESCAN_MS = 30_000;

export interface CodeFolderOptions {
  dir: string;
  /** False refuses files holding command nodes, as the server's API does without --allow-commands. */
  allowCommands: boolean;
  /** Where what each rescan did and every problem goes (the server's log, the console's stderr). */
  log?: (level: 'info' | 'warn', message: string, fields: Record<string, unknown>) => void;
  /** Quiet time after the last change before the folder is read again. */
  debounceMs?: number;
  /** Follow changes with fs.watch and the periodic rescan (default); tests call `rescan()` themselves. */
  watch?: boolean;
  /** The period of the full rescan that backs fs.watch up (default 30 s; the server's --code-rescan-ms). */
  rescanMs?: number;
  /** What one file may cost to parse (size, aliases, time); see code-files.ts. */
  limits?: Partial<ParseLimits>;
}

/** What one pass over the folder did, by workflow name, and what it refused. */
export interface CodeSyncReport {
  created: string[];
  published: string[];
  updated: string[];
  unregistered: string[];
  /** Files whose refusal was recorded by this pass (a content refused before is not again). */
  refused: string[];
  problems: CodeProblem[];
}

export class CodeFolder {
  private watcher: FSWatcher | null = null;
  private timer: NodeJS.Timeout | null = null;
  private poll: NodeJS.Timeout | null = null;
  private polling = false;
  /** Passes run one after another: two overlapping ones would race to publish the same change. */
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;
  readonly dir: string;

  private constructor(
    private readonly engine: Engine,
    private readonly options: CodeFolderOptions,
  ) {
    this.dir = resolve(options.dir);
  }

  /**
   * Reads the folder and syncs it, then follows it. Duplicate names, unreadable files and symlink
   * loops refuse the start (INVALID_CODE_FILE, nothing registered); a broken file does not: it is
   * reported, and its workflow keeps its last good version.
   */
  static async open(engine: Engine, options: CodeFolderOptions): Promise<CodeFolder> {
    const folder = new CodeFolder(engine, options);
    const scan = folder.scan();
    const fatal = scan.problems.filter((p) => p.kind !== 'broken');
    if (fatal.length > 0) throw startupRefusal(folder.dir, fatal);
    await folder.apply(scan);
    if (options.watch !== false) folder.follow();
    return folder;
  }

  /** Reads the folder again and applies what changed; resolves with what this pass did. */
  rescan(): Promise<CodeSyncReport> {
    const pass = this.queue.then(() => this.apply(this.scan()));
    this.queue = pass.catch(() => undefined);
    return pass;
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.poll) clearInterval(this.poll);
    this.watcher?.close();
    this.watcher = null;
  }

  private scan(): CodeScan {
    try {
      return scanCodeFolder(this.dir, { allowCommands: this.options.allowCommands, ...(this.options.limits ? { limits: this.options.limits } : {}) });
    } catch (err) {
      // The folder itself went away (a checkout being replaced): nothing can be told apart, so nothing changes.
      return { definitions: [], problems: [{ kind: 'unreadable', file: '.', line: null, field: null, message: (err as Error).message }], present: new Set(), claimed: new Set() };
    }
  }

  private follow(): void {
    this.poll = setInterval(() => {
      // A pass still running (a slow store) is not queued behind again: the next period will look.
      if (this.polling || this.closed) return;
      this.polling = true;
      void this.rescan()
        .catch((err: unknown) => this.log('warn', `code folder: rescan failed: ${err instanceof Error ? err.message : String(err)}`, { code_dir: this.dir }))
        .finally(() => (this.polling = false));
    }, this.options.rescanMs ?? DEFAULT_CODE_RESCAN_MS);
    this.poll.unref();
    try {
      this.watcher = watch(this.dir, { recursive: true }, () => this.changed());
      this.watcher.on('error', (err) => this.log('warn', `code folder: watching ${this.dir} failed: ${err.message}`, { code_dir: this.dir }));
    } catch (err) {
      this.log('warn', `code folder: cannot watch ${this.dir} (${(err as Error).message}); changes are read by the periodic rescan only`, { code_dir: this.dir });
    }
  }

  private changed(): void {
    if (this.closed) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      if (!this.closed) void this.rescan().catch((err: unknown) => this.log('warn', `code folder: rescan failed: ${err instanceof Error ? err.message : String(err)}`, { code_dir: this.dir }));
    }, this.options.debounceMs ?? 300);
  }

  private log(level: 'info' | 'warn', message: string, fields: Record<string, unknown>): void {
    this.options.log?.(level, message, fields);
  }

  private async apply(scan: CodeScan): Promise<CodeSyncReport> {
    const report: CodeSyncReport = { created: [], published: [], updated: [], unregistered: [], refused: [], problems: [...scan.problems] };
    const defined = new Set<string>();
    for (const def of scan.definitions) {
      defined.add(def.name);
      try {
        const { outcome } = await this.engine.syncCode(def, () => this.hashOnDisk(def.file) === def.hash);
        if (outcome !== 'unchanged' && outcome !== 'stale') report[outcome].push(def.name);
      } catch (err) {
        if (!(err instanceof RewindError)) throw err;
        // A rule of the engine refused it (a MANUAL name clash is not one; a store failure is): keep the last good version.
        report.problems.push({ kind: 'broken', file: def.file, line: null, field: null, message: `${err.message} (${err.code})`, hash: def.hash });
      }
    }
    for (const p of report.problems) {
      if (p.kind !== 'broken') continue;
      // A file too large to read has no content hash: its problem stands for it.
      const hash = p.hash ?? contentHash(describeProblem(p));
      const recorded = await this.engine.refuseCodeFile({ file: p.file, hash, line: p.line, field: p.field, message: p.message }, () => p.hash === undefined || this.hashOnDisk(p.file) === p.hash);
      if (recorded) report.refused.push(p.file);
    }
    // A folder that could not be read whole says nothing about what was removed: unregister nothing then.
    const partial = scan.problems.some((p) => p.kind === 'unreadable' || p.kind === 'symlink-loop');
    if (!partial) {
      const gone = (file: string) => !existsSync(join(this.dir, file));
      for (const wf of await this.engine.workflows.codeWorkflows()) {
        if (defined.has(wf.name) || scan.claimed.has(wf.name)) continue;
        if (wf.code_file !== null && scan.present.has(wf.code_file)) continue;
        const done = await this.engine.unregisterCode(wf.id, wf.code_file ?? wf.name, () => wf.code_file === null || gone(wf.code_file));
        if (done) report.unregistered.push(wf.name);
      }
      await this.engine.forgetRemovedCodeFiles(scan.present, gone);
    }
    for (const p of report.problems) this.log('warn', `code folder: ${describeProblem(p)}`, { code_dir: this.dir, ...p });
    const did = (['created', 'published', 'updated', 'unregistered', 'refused'] as const).filter((k) => report[k].length > 0).map((k) => `${k} ${report[k].join(', ')}`);
    if (did.length > 0) this.log('info', `code folder: ${did.join('; ')}`, { code_dir: this.dir });
    return report;
  }

  /** The content hash of a file as it is on disk now; null when it cannot be read. */
  private hashOnDisk(file: string): string | null {
    try {
      return contentHash(readFileSync(join(this.dir, file), 'utf8'));
    } catch {
      return null;
    }
  }
}
