import { createInterface } from 'node:readline/promises';
import { runCli } from './run.js';

/** `npm run cli -- <verb>` and the `rewind` bin: one command line, its exit code for scripts. */
const interrupted = new AbortController();
process.once('SIGINT', () => interrupted.abort());
process.once('SIGTERM', () => interrupted.abort());

/** One question on the terminal (a rehearsal's confirmations); never offered when stdin is a pipe. */
async function prompt(question: string): Promise<string> {
  const rl = createInterface({ input: process.stdin, output: process.stdout });
  // readline takes Ctrl-C from the terminal while it asks: pass it on, as the abort it means.
  rl.on('SIGINT', () => interrupted.abort());
  try {
    return await rl.question(question, { signal: interrupted.signal });
  } catch {
    // Aborted while asking: no answer, and the rehearsal is ending anyway.
    return '';
  } finally {
    rl.close();
  }
}

const code = await runCli(process.argv.slice(2), {
  stdout: (text) => process.stdout.write(`${text}\n`),
  stderr: (text) => process.stderr.write(`${text}\n`),
  env: process.env,
  signal: interrupted.signal,
  ...(process.stdin.isTTY ? { prompt } : {}),
});
process.exit(code);
