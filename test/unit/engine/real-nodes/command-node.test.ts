import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { commandParamsSchema } from '../../../../main/engine/dsl/node-params.js';
import { Tail, runCommandNode } from '../../../../main/engine/executor/command-node.js';
import type { RealNodeContext } from '../../../../main/engine/executor/real-node.js';
import { staticSecrets } from '../../../../main/engine/executor/secrets.js';
import { tempDir } from '../fixtures.js';

const SECRET = 'pa$$ w0rd"';
const node = process.execPath;

function ctx(over: Partial<RealNodeContext> = {}): RealNodeContext {
  return { context: { batch: 'b-7', outputs: {} }, secrets: staticSecrets({ DB_PASSWORD: SECRET }), runId: 'run-1', nodeId: 'train', signal: new AbortController().signal, ...over };
}
const params = (p: Record<string, unknown>) => commandParamsSchema.parse(p);

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function until(check: () => boolean): Promise<void> {
  while (!check()) await new Promise((r) => setTimeout(r, 10));
}

describe('command node', () => {
  it('runs an argv without a shell; the last stdout line, as JSON, is the output', async () => {
    // A script run directly (its shebang names the interpreter): its arguments are data, templated or not.
    const script = join(tempDir(), 'args.mjs');
    writeFileSync(script, `#!${node}\nconsole.log("warming up"); console.log(JSON.stringify({ args: process.argv.slice(2) }))\n`);
    chmodSync(script, 0o755);
    const result = await runCommandNode(params({ argv: [script, '$(touch /tmp/pwned) && echo', 'batch {{ctx.batch}}'] }), ctx());
    expect(result).toEqual({ ok: true, output: { args: ['$(touch /tmp/pwned) && echo', 'batch b-7'] } });
  });

  it('reports a last line that is not JSON as text', async () => {
    expect(await runCommandNode(params({ argv: [node, '-e', 'console.log("done in 3s")'] }), ctx())).toEqual({ ok: true, output: { exit_code: 0, last_line: 'done in 3s' } });
  });

  it('gives the command only its allow-listed env (templated, secrets redacted in what comes back) and PATH', async () => {
    process.env.REWIND_TEST_LEAK = 'server-only';
    try {
      const script = 'console.log(JSON.stringify({ keys: Object.keys(process.env).sort(), pw: process.env.PGPASSWORD, batch: process.env.BATCH }))';
      const result = await runCommandNode(params({ argv: [node, '-e', script], env: { PGPASSWORD: '{{secret.DB_PASSWORD}}', BATCH: '{{ctx.batch}}' } }), ctx());
      expect(result).toEqual({ ok: true, output: { keys: ['BATCH', 'PATH', 'PGPASSWORD'], pw: '[secret:DB_PASSWORD]', batch: 'b-7' } });
    } finally {
      delete process.env.REWIND_TEST_LEAK;
    }
  });

  it('fails a non-zero exit with the stderr tail, secrets redacted', async () => {
    const script = `console.error("connecting with " + process.env.PW); console.error("FATAL: disk full"); process.exit(3)`;
    const result = await runCommandNode(params({ argv: [node, '-e', script], env: { PW: '{{secret.DB_PASSWORD}}' } }), ctx());
    expect(result.ok).toBe(false);
    const error = (result as { error: string }).error;
    expect(error).toContain(`Command node 'train': ${JSON.stringify(node)} exited with code 3; stderr ends: connecting with [secret:DB_PASSWORD]`);
    expect(error).toContain('FATAL: disk full');
    expect(error).not.toContain(SECRET);
  });

  it('fails a program that cannot start', async () => {
    const result = await runCommandNode(params({ argv: ['/no/such/program'] }), ctx());
    expect((result as { error: string }).error).toMatch(/could not start "\/no\/such\/program": spawn \/no\/such\/program ENOENT/);
  });

  it('on timeout kills the whole process group: no child survives', async () => {
    const dir = tempDir();
    const pidFile = join(dir, 'grandchild.pid');
    // The command starts a grandchild that would outlive it, then both sleep.
    const script = `const c = require("child_process").spawn(process.execPath, ["-e", "setInterval(() => {}, 1000)"], { stdio: "ignore" });
      require("fs").writeFileSync(${JSON.stringify(pidFile)}, String(c.pid)); setInterval(() => {}, 1000);`;
    const result = await runCommandNode(params({ argv: [node, '-e', script], timeout_ms: 1500 }), ctx());
    expect(result).toEqual({ ok: false, error: "Command node 'train': timed out after 1500 ms; its process group was killed." });
    const grandchild = Number(readFileSync(pidFile, 'utf8'));
    await until(() => !alive(grandchild));
    expect(alive(grandchild)).toBe(false);
  });

  it('on cancel kills the process group', async () => {
    const cancel = new AbortController();
    const pending = runCommandNode(params({ argv: [node, '-e', 'console.log("started"); setInterval(() => {}, 1000)'] }), ctx({ signal: cancel.signal }));
    setTimeout(() => cancel.abort(), 300);
    expect(await pending).toEqual({ ok: false, error: "Command node 'train': cancelled; its process group was killed." });
  });

  it('reads 100 MB of output keeping only a tail, and still finds the last line', async () => {
    const script = 'const b = Buffer.alloc(1024 * 1024, 97); for (let i = 0; i < 100; i++) process.stdout.write(b); process.stdout.write("\\n" + JSON.stringify({ rows: 100 }) + "\\n")';
    const result = await runCommandNode(params({ argv: [node, '-e', script], timeout_ms: 120_000 }), ctx({ limits: { maxOutputTailBytes: 64 * 1024 } }));
    expect(result).toEqual({ ok: true, output: { rows: 100 } });
  }, 120_000);

  it('a tail holds at most its size plus one chunk, whatever passes through it', () => {
    const tail = new Tail(1000);
    for (let i = 0; i < 10_000; i += 1) tail.push(Buffer.alloc(300, i % 256));
    expect(tail.total).toBe(3_000_000);
    expect(tail.held).toBeLessThanOrEqual(1300);
    expect(tail.text()).toHaveLength(1000);
  });
});
