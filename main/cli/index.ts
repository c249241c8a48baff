import { runCli } from './run.js';

/** `npm run cli -- <verb>` and the `rewind` bin: one command line, its exit code for scripts. */
const interrupted = new AbortController();
process.once('SIGINT', () => interrupted.abort());
process.once('SIGTERM', () => interrupted.abort());

const code = await runCli(process.argv.slice(2), {
  stdout: (text) => process.stdout.write(`${text}\n`),
  stderr: (text) => process.stderr.write(`${text}\n`),
  env: process.env,
  signal: interrupted.signal,
});
process.exit(code);
