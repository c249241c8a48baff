import { createInterface } from 'node:readline/promises';
import { type CliIo, preflight } from './preflight.js';

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

/** The system browser, for `rewind login`'s browser flow — only for someone at a terminal (a script gets the printed address). */
async function openUrl(url: string): Promise<void> {
  const { spawn } = await import('node:child_process');
  const [command, args] =
    process.platform === 'darwin' ? ['open', [url]] : process.platform === 'win32' ? ['rundll32', ['url.dll,FileProtocolHandler', url]] : ['xdg-open', [url]];
  await new Promise<void>((resolve, reject) => {
    const child = spawn(command, args as string[], { stdio: 'ignore', detached: true });
    child.once('error', reject);
    child.once('spawn', () => {
      child.unref();
      resolve();
    });
  });
}

const argv = process.argv.slice(2);
const io: CliIo = {
  stdout: (text) => process.stdout.write(`${text}\n`),
  stderr: (text) => process.stderr.write(`${text}\n`),
  env: process.env,
  signal: interrupted.signal,
  ...(process.stdin.isTTY ? { prompt } : {}),
  ...(process.stdout.isTTY ? { openUrl } : {}),
};
// --help, --version and usage errors answer before the engine, zod and SQLite are loaded.
const code = preflight(argv, io) ?? (await (await import('./run.js')).runCli(argv, io));
process.exit(code);
