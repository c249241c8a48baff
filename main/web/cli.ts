import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { defaultUserDataDir, SANDBOX_FILE } from '../ipc/user-data.js';
import { startWebConsole } from './web-console.js';

const USAGE = `Usage: npm run web -- [--port 5199] [--sandbox FILE] [--connections-dir DIR] [--time-scale N] [--no-demo]

Serves the Rewind console to a browser on 127.0.0.1, guarded by a token made at each start.
  --port N             port to listen on (default 5199; 0 picks a free one)
  --sandbox FILE       the local sandbox database (default: Rewind's user data folder)
  --connections-dir D  folder of connections.json (default: Rewind's user data folder)
  --time-scale N       real ms per simulated ms of node work (default 0.002; 0 runs back to back)
  --no-demo            do not seed the demo workflows into an empty sandbox
  --code-dir DIR       workflows as code in the sandbox: the files below DIR are its CODE workflows,
                       kept in line as they change (also REWIND_CODE_DIR)`;

const DEFAULT_PORT = 5199;

function fail(message: string): never {
  process.stderr.write(`${message}\n\n${USAGE}\n`);
  process.exit(2);
}

function parse() {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        port: { type: 'string' },
        sandbox: { type: 'string' },
        'connections-dir': { type: 'string' },
        'time-scale': { type: 'string' },
        'no-demo': { type: 'boolean', default: false },
        'code-dir': { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    fail((err as Error).message);
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  const port = values.port === undefined ? undefined : Number(values.port);
  if (port !== undefined && !(Number.isInteger(port) && port >= 0 && port <= 65535)) fail(`--port must be 0–65535, not ${values.port}.`);
  const timeScale = values['time-scale'] === undefined ? undefined : Number(values['time-scale']);
  if (timeScale !== undefined && !(Number.isFinite(timeScale) && timeScale >= 0)) fail(`--time-scale must be a number ≥ 0, not ${values['time-scale']}.`);
  const dataDir = defaultUserDataDir();
  return {
    port,
    sandboxPath: resolve(values.sandbox ?? join(dataDir, SANDBOX_FILE)),
    connectionsDir: resolve(values['connections-dir'] ?? dataDir),
    timeScale,
    demo: !values['no-demo'],
    codeDir: values['code-dir'] ?? (process.env.REWIND_CODE_DIR || undefined),
  };
}

async function main(): Promise<void> {
  const args = parse();
  const start = (port: number) => startWebConsole({ ...args, port });
  let web;
  try {
    web = await start(args.port ?? DEFAULT_PORT);
  } catch (err) {
    // The default port is a convenience: when it is taken, any free one will do. An explicit one is a request.
    if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE' || args.port !== undefined) throw err;
    process.stderr.write(`Port ${DEFAULT_PORT} is in use; using a free port instead.\n`);
    web = await start(0);
  }
  process.stderr.write(`Sandbox: ${args.sandboxPath}\nConnections: ${args.connectionsDir}\nBrowser mode has no keychain: tokens of remote connections are kept in memory for this session only.\n`);
  process.stdout.write(`Rewind console: ${web.url}\n`);
  const stop = () => {
    void web.close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((err: unknown) => {
  const e = err as { code?: string; message?: string; hint?: string };
  process.stderr.write(`rewind web: ${e.message ?? String(err)}${e.hint ? `\n${e.hint}` : ''}\n`);
  process.exit(1);
});
