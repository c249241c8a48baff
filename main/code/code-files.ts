import { createHash } from 'node:crypto';
import { type Stats, readFileSync, readdirSync, realpathSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { Composer, type Document, LineCounter, Parser } from 'yaml';
import { z } from 'zod';
import type { Dsl } from '../../preload/contract/entities.js';
import { safeName, safeText } from '../../preload/contract/names.js';
import { validateCron } from '../engine/cron.js';
import { validateDsl } from '../engine/dsl/graph.js';
import { RewindError } from '../engine/errors.js';
import type { CodeDefinition } from '../engine/workflows.js';

/*
 * Reading a code folder (seed 004's CODE workflows, typically a Git checkout): every *.yaml, *.yml
 * and *.json file below it (dot-folders such as .git skipped, symlinks followed) defines one
 * workflow: name, description, schedule, dsl. A file that cannot be used is reported with its file,
 * line and field; the folder-level problems (duplicate names, unreadable files, symlink loops) are
 * what refuses a server's start.
 *
 * Each file is parsed on its own, within limits, and whatever goes wrong with one file — a YAML
 * alias bomb, a file too large, a parse that takes too long, anything the parser throws — refuses
 * that file alone: the others still sync.
 */

const EXTENSIONS = /\.(ya?ml|json)$/i;

/** What one file may cost to read. */
export interface ParseLimits {
  /** A workflow file is a definition, not data: anything larger is a mistake. */
  maxBytes: number;
  /** Aliases resolved when the document becomes data (the yaml package's `maxAliasCount`): a "billion laughs" file stops here. */
  maxAliasCount: number;
  /** Parsing stops once it has taken this long (checked between the parser's tokens). */
  maxParseMs: number;
}

export const defaultParseLimits: ParseLimits = { maxBytes: 1024 * 1024, maxAliasCount: 100, maxParseMs: 2000 };

export interface ParseOptions {
  allowCommands: boolean;
  limits?: Partial<ParseLimits>;
}

const fileSchema = z.strictObject({
  name: safeName(z.string().trim().min(1).max(200)),
  description: safeText(z.string().max(5000)).default(''),
  schedule: z.string().max(200).nullable().default(null),
  dsl: z.unknown(),
});

/** One problem of the folder: where (file, line, field) and what. */
export interface CodeProblem {
  /** `broken`: the file's content; the others stop a server's start. */
  kind: 'broken' | 'duplicate' | 'unreadable' | 'symlink-loop';
  file: string;
  line: number | null;
  field: string | null;
  message: string;
  /** A file read whole: the SHA-256 of its content (a refusal is recorded once per content). */
  hash?: string;
}

export interface CodeScan {
  definitions: CodeDefinition[];
  problems: CodeProblem[];
  /** Every workflow file present, usable or not: a workflow whose file is still there is never unregistered. */
  present: Set<string>;
  /** Names claimed by files that are present but broken (read as far as the name): their workflows keep their last good version. */
  claimed: Set<string>;
}

/** Relative, with forward slashes on every OS: the file's name in events and in `code:<file>`. */
function relativeName(root: string, path: string): string {
  return relative(root, path).split(sep).join('/');
}

/** The workflow files below `root`, and the problems met walking there. */
function walk(root: string): { files: string[]; problems: CodeProblem[] } {
  const files: string[] = [];
  const problems: CodeProblem[] = [];
  const visit = (dir: string, ancestors: ReadonlySet<string>) => {
    let entries: string[];
    try {
      entries = readdirSync(dir).sort();
    } catch (err) {
      problems.push({ kind: 'unreadable', file: relativeName(root, dir) || '.', line: null, field: null, message: `cannot list the folder: ${(err as Error).message}` });
      return;
    }
    for (const entry of entries) {
      if (entry.startsWith('.')) continue;
      const path = join(dir, entry);
      let stat: Stats;
      try {
        stat = statSync(path);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'ELOOP') {
          problems.push({ kind: 'symlink-loop', file: relativeName(root, path), line: null, field: null, message: 'is a symlink that leads back to itself' });
        } else if (EXTENSIONS.test(entry)) {
          problems.push({ kind: 'unreadable', file: relativeName(root, path), line: null, field: null, message: `cannot be read: ${(err as Error).message}` });
        }
        continue;
      }
      if (stat.isDirectory()) {
        const real = realpathSync(path);
        if (ancestors.has(real)) {
          problems.push({ kind: 'symlink-loop', file: relativeName(root, path), line: null, field: null, message: `leads back to ${relativeName(root, real) || 'the code folder itself'}, a folder above it` });
          continue;
        }
        visit(path, new Set([...ancestors, real]));
      } else if (stat.isFile() && EXTENSIONS.test(entry)) {
        files.push(path);
      }
    }
  };
  visit(root, new Set([realpathSync(root)]));
  return { files, problems };
}

/** The 1-based line of a path in the document, or of its nearest ancestor that exists. */
function lineOf(doc: Document, counter: LineCounter, path: ReadonlyArray<string | number>): number {
  for (let n = path.length; n >= 0; n -= 1) {
    const node = n === 0 ? doc.contents : doc.getIn(path.slice(0, n), true);
    const range = (node as { range?: [number, number, number] } | null | undefined)?.range;
    if (range) return counter.linePos(range[0]).line;
  }
  return 1;
}

const toPath = (dotted: string): Array<string | number> => (dotted === '' ? [] : dotted.split('.').map((s) => (/^\d+$/.test(s) ? Number(s) : s)));

class ParseTimeout extends Error {}

/**
 * The file's documents, parsed token by token (the yaml package's Parser and Composer, as its own
 * parseDocument does) so that the time cap is checked as it goes rather than after the fact.
 */
function composeWithin(text: string, counter: LineCounter, maxParseMs: number): Document[] {
  const deadline = performance.now() + maxParseMs;
  const composer = new Composer({ prettyErrors: true, uniqueKeys: true });
  const docs: Document[] = [];
  let tokens = 0;
  for (const token of new Parser(counter.addNewLine).parse(text)) {
    // performance.now() costs little, but a file has many tokens: look at the clock every 64.
    if ((tokens++ & 63) === 0 && performance.now() > deadline) throw new ParseTimeout();
    for (const doc of composer.next(token)) docs.push(doc as Document);
  }
  for (const doc of composer.end(false, text.length)) docs.push(doc as Document);
  return docs;
}

/** Parses one file; a problem names the file, the line and the field. Never throws: whatever goes wrong refuses this file only. */
export function parseCodeFile(file: string, text: string, options: ParseOptions): { definition: CodeDefinition } | { problem: CodeProblem; name: string | null } {
  const hash = contentHash(text);
  const broken = (line: number | null, field: string | null, message: string, name: string | null = null) => ({ problem: { kind: 'broken' as const, file, line, field, message, hash }, name });
  try {
    return parseWithin(file, text, hash, options, broken);
  } catch (err) {
    return broken(null, null, `could not be read as a workflow: ${err instanceof Error ? err.message : String(err)}`);
  }
}

type Broken = (line: number | null, field: string | null, message: string, name?: string | null) => { problem: CodeProblem; name: string | null };

function parseWithin(file: string, text: string, hash: string, options: ParseOptions, broken: Broken): ReturnType<typeof parseCodeFile> {
  const limits = { ...defaultParseLimits, ...options.limits };
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > limits.maxBytes) return broken(null, null, `is ${bytes} bytes; a workflow file holds at most ${limits.maxBytes}`);
  const counter = new LineCounter();
  let docs: Document[];
  try {
    docs = composeWithin(text, counter, limits.maxParseMs);
  } catch (err) {
    if (!(err instanceof ParseTimeout)) throw err;
    return broken(null, null, `took longer than ${limits.maxParseMs} ms to parse, and was given up (a workflow file is small; is it generated?)`);
  }
  const doc = docs[0];
  if (!doc) return broken(1, null, 'is empty: a CODE workflow file holds name, description, schedule and dsl');
  if (docs.length > 1) return broken(docs[1]!.range ? counter.linePos(docs[1]!.range[0]).line : null, null, 'holds more than one document: one workflow per file');
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    return broken(counter.linePos(e.pos[0]).line, null, `is not valid ${/\.json$/i.test(file) ? 'JSON' : 'YAML'}: ${e.message.split('\n')[0]}`);
  }
  let raw: unknown;
  try {
    raw = doc.toJS({ maxAliasCount: limits.maxAliasCount });
  } catch (err) {
    // The yaml package's guard against "billion laughs": aliases that would expand without bound.
    if (err instanceof ReferenceError && /alias/i.test(err.message)) {
      return broken(null, null, `expands its YAML aliases (&anchor / *alias) more than ${limits.maxAliasCount} times, as a resource exhaustion ("billion laughs") file does; write the values out`);
    }
    throw err;
  }
  const rawName = typeof raw === 'object' && raw !== null && typeof (raw as { name?: unknown }).name === 'string' ? ((raw as { name: string }).name.trim() || null) : null;
  const shape = fileSchema.safeParse(raw);
  if (!shape.success) {
    const issue = shape.error.issues[0]!;
    const path = issue.path.map((p) => (typeof p === 'number' ? p : String(p)));
    const field = path.length ? path.join('.') : null;
    const message = issue.code === 'unrecognized_keys' ? `has unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.join(', ')}` : issue.message;
    const at = issue.code === 'unrecognized_keys' ? [...path, issue.keys[0]!] : path;
    return broken(lineOf(doc, counter, at), issue.code === 'unrecognized_keys' ? at.join('.') : field, message, rawName);
  }
  const { name, description, schedule } = shape.data;
  if (shape.data.dsl === undefined) return broken(1, 'dsl', 'is missing: a CODE workflow needs its definition', name);
  let dsl: Dsl;
  try {
    dsl = validateDsl(shape.data.dsl);
  } catch (err) {
    if (!(err instanceof RewindError)) throw err;
    const path = typeof err.details?.path === 'string' ? err.details.path : '';
    return broken(lineOf(doc, counter, ['dsl', ...toPath(path)]), path ? `dsl.${path}` : 'dsl', err.message, name);
  }
  if (!options.allowCommands) {
    const index = dsl.nodes.findIndex((n) => n.type === 'command');
    if (index >= 0) {
      return broken(lineOf(doc, counter, ['dsl', 'nodes', index]), `dsl.nodes.${index}`, `node '${dsl.nodes[index]!.id}' is a command node, and this server runs no commands (--allow-commands)`, name);
    }
  }
  let cron: string | null = null;
  if (schedule !== null) {
    try {
      cron = validateCron(schedule).expression;
    } catch (err) {
      if (!(err instanceof RewindError)) throw err;
      return broken(lineOf(doc, counter, ['schedule']), 'schedule', err.message, name);
    }
  }
  return { definition: { name, description, schedule: cron, dsl, file, hash } };
}

/** The content hash a file is known by: SHA-256 of its text, hex. */
export function contentHash(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** Reads every workflow file below `root`: the usable definitions, and every problem with its place. */
export function scanCodeFolder(root: string, options: ParseOptions): CodeScan {
  const maxBytes = options.limits?.maxBytes ?? defaultParseLimits.maxBytes;
  const { files, problems } = walk(root);
  const present = new Set<string>();
  const claimed = new Set<string>();
  const parsed: CodeDefinition[] = [];
  for (const path of files) {
    const file = relativeName(root, path);
    present.add(file);
    let text: string;
    try {
      const size = statSync(path).size;
      if (size > maxBytes) {
        problems.push({ kind: 'broken', file, line: null, field: null, message: `is ${size} bytes; a workflow file holds at most ${maxBytes}` });
        continue;
      }
      text = readFileSync(path, 'utf8');
    } catch (err) {
      problems.push({ kind: 'unreadable', file, line: null, field: null, message: `cannot be read: ${(err as Error).message}` });
      continue;
    }
    const result = parseCodeFile(file, text, options);
    if ('definition' in result) parsed.push(result.definition);
    else {
      problems.push(result.problem);
      if (result.name) claimed.add(result.name);
    }
  }
  // Two files naming one workflow: neither is applied (which one would win is not the server's to guess).
  const byName = new Map<string, CodeDefinition[]>();
  for (const d of parsed) byName.set(d.name, [...(byName.get(d.name) ?? []), d]);
  const definitions: CodeDefinition[] = [];
  for (const [name, defs] of byName) {
    if (defs.length === 1) {
      definitions.push(defs[0]!);
      continue;
    }
    claimed.add(name);
    for (const d of defs) {
      problems.push({ kind: 'duplicate', file: d.file, line: 1, field: 'name', message: `names "${name}", as ${defs.filter((o) => o !== d).map((o) => o.file).join(', ')} does` });
    }
  }
  return { definitions, problems, present, claimed };
}

/** One line per problem: `file:line field: message`. */
export function describeProblem(p: CodeProblem): string {
  const where = p.line === null ? p.file : `${p.file}:${p.line}`;
  return `${where}${p.field ? ` ${p.field}` : ''}: ${p.message}`;
}

/** What a start with these problems is refused with (exit code 2): what is wrong where, and what to do. */
export function startupRefusal(root: string, problems: readonly CodeProblem[]): RewindError {
  const hints: Record<CodeProblem['kind'], string> = {
    duplicate: 'give each workflow one file (rename or delete one of the files naming it)',
    unreadable: 'make the files readable by the server (permissions, dangling symlinks)',
    'symlink-loop': 'remove the symlink that leads back into the folder',
    broken: 'fix the field named',
  };
  const kinds = [...new Set(problems.map((p) => p.kind))];
  return new RewindError(
    'INVALID_CODE_FILE',
    `The code folder ${root} cannot be used: ${problems.map(describeProblem).join('; ')}.`,
    `${kinds.map((k) => hints[k]).join('; ')}; then start the server again.`,
    { code_dir: root, problems: problems.map((p) => ({ ...p })) },
  );
}
