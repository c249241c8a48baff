import { spawn } from 'node:child_process';
import type { CommandParams } from '../dsl/node-params.js';
import { type RealNodeContext, type RealNodeResult, defaultLimits } from './real-node.js';
import { maskerFor } from './masking.js';
import { unsafeCommandTemplate } from './template-safety.js';
import { TemplateError, renderString } from './templating.js';

/*
 * The command node: an argv run directly (never through a shell), in its own process group so a
 * timeout or a cancel kills everything it started. Its output is read as it comes and only a tail is
 * kept, so a command printing gigabytes costs a fixed amount of memory.
 */

/** The last `max` bytes written to it (and a little more, up to one chunk): what a command's output costs in memory. */
export class Tail {
  private chunks: Buffer[] = [];
  private size = 0;
  total = 0;
  constructor(private readonly max: number) {}

  push(chunk: Buffer): void {
    this.total += chunk.length;
    this.chunks.push(chunk);
    this.size += chunk.length;
    while (this.size - (this.chunks[0]?.length ?? 0) >= this.max) this.size -= (this.chunks.shift() as Buffer).length;
  }

  /** Bytes held now. */
  get held(): number {
    return this.size;
  }

  text(): string {
    const all = Buffer.concat(this.chunks);
    return all.subarray(Math.max(0, all.length - this.max)).toString('utf8');
  }
}

export async function runCommandNode(params: CommandParams, ctx: RealNodeContext): Promise<RealNodeResult> {
  const redact = maskerFor(ctx.secrets);
  const fail = (message: string): RealNodeResult => ({ ok: false, error: redact.text(`Command node '${ctx.nodeId}': ${message}`) });
  // A version drafted before templates were checked: refused here as at drafting, before anything is spawned.
  const unsafe = unsafeCommandTemplate(params);
  if (unsafe !== null) return fail(`refused to run (UNSAFE_TEMPLATE): ${unsafe.message} ${unsafe.hint}`);
  let argv: string[];
  let cwd: string | undefined;
  let env: Record<string, string>;
  try {
    argv = params.argv.map((a) => renderString(a, ctx.context, ctx.secrets));
    cwd = params.cwd === undefined ? undefined : renderString(params.cwd, ctx.context, ctx.secrets);
    env = Object.fromEntries(Object.entries(params.env ?? {}).map(([k, v]) => [k, renderString(v, ctx.context, ctx.secrets)]));
  } catch (err) {
    if (!(err instanceof TemplateError)) throw err;
    return fail(`${err.message}.`);
  }
  if (ctx.signal.aborted) return fail('cancelled before it started.');
  const max = ctx.limits?.maxOutputTailBytes ?? defaultLimits.maxOutputTailBytes;
  const program = argv[0] as string;

  return new Promise<RealNodeResult>((resolve) => {
    const stdout = new Tail(max);
    const stderr = new Tail(max);
    // Only the allow-listed variables, plus PATH so the program can be found.
    const child = spawn(program, argv.slice(1), {
      ...(cwd === undefined ? {} : { cwd }),
      env: { ...(process.env.PATH === undefined ? {} : { PATH: process.env.PATH }), ...env },
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stopped: 'timeout' | 'cancel' | null = null;
    const killGroup = (why: 'timeout' | 'cancel') => {
      stopped ??= why;
      if (child.pid === undefined) return;
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // The group is already gone.
      }
    };
    const timer = setTimeout(() => killGroup('timeout'), params.timeout_ms);
    const onAbort = () => killGroup('cancel');
    ctx.signal.addEventListener('abort', onAbort, { once: true });
    const cleanup = () => {
      clearTimeout(timer);
      ctx.signal.removeEventListener('abort', onAbort);
    };
    child.stdout.on('data', (c: Buffer) => stdout.push(c));
    child.stderr.on('data', (c: Buffer) => stderr.push(c));
    child.on('error', (err) => {
      cleanup();
      resolve(fail(`could not start ${JSON.stringify(program)}: ${err.message}.`));
    });
    child.on('close', (code, signal) => {
      cleanup();
      const errTail = stderr.text().trimEnd().slice(-2000);
      if (stopped === 'timeout') return resolve(fail(`timed out after ${params.timeout_ms} ms; its process group was killed.`));
      if (stopped === 'cancel') return resolve(fail('cancelled; its process group was killed.'));
      if (code !== 0) {
        const how = code === null ? `was killed by ${signal ?? 'a signal'}` : `exited with code ${code}`;
        return resolve(fail(`${JSON.stringify(program)} ${how}${errTail ? `; stderr ends: ${errTail}` : ' (no stderr)'}.`));
      }
      resolve({ ok: true, output: redact.value(resultOf(stdout.text())) });
    });
  });
}

/** The last stdout line parsed when it is JSON; otherwise the exit code and that line. */
function resultOf(out: string): unknown {
  const lines = out.split('\n').map((l) => l.trim()).filter((l) => l !== '');
  const last = lines[lines.length - 1] ?? '';
  if (last !== '') {
    try {
      return JSON.parse(last) as unknown;
    } catch {
      // Not JSON: report it as text.
    }
  }
  return { exit_code: 0, last_line: last };
}
