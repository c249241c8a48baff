import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { openSandbox, type SandboxOptions } from '../backends/engine-backend.js';
import { createConnectionManager, type ConnectionManager, type CreateRemote, SANDBOX_ID } from './connections/connection-manager.js';
import { createConsoleService, type ConsoleService, type Notify, type SaveText } from './console-service.js';
import { type SandboxRuntime, SandboxRuntimes } from './connections/sandbox-runtime.js';
import { keychainVault, sessionVault, type SecretStore } from './connections/token-vault.js';
import type { SsoDriver } from './connections/sso.js';

/** Real ms per simulated ms in the console's sandbox: a 15-minute node takes about 2 s — long enough to watch, short enough to rehearse. */
export const DEFAULT_TIME_SCALE = 0.002;

export interface OpenConsoleOptions {
  sandbox: SandboxOptions;
  /** The folder of the connections file (and of the token blobs, with a keychain). */
  connectionsDir: string;
  /** The OS keychain (Electron's safeStorage). Without one, remote tokens and sandbox secrets live in memory for this session only. */
  secretStore?: SecretStore;
  createRemote: CreateRemote;
  /** A save dialog (the desktop app's); without one the page downloads the file itself. */
  saveText?: SaveText;
  /** Native desktop notifications (the desktop app's); without them the page uses the Notification API. */
  notify?: Notify;
  /** How "Sign in with SSO" reaches the identity provider: the system browser (desktop) or a redirect of the page (browser mode). */
  sso?: SsoDriver;
}

export interface OpenedConsole {
  connections: ConnectionManager;
  service: ConsoleService;
  /** Ends rehearsals under way (their records kept), then closes every connection. */
  close(): Promise<void>;
}

/** The console behind any transport: the sandbox, the connections, and the service that routes to them. */
export async function openConsole(options: OpenConsoleOptions): Promise<OpenedConsole> {
  await mkdir(dirname(options.sandbox.path), { recursive: true });
  const vault = options.secretStore ? keychainVault(options.secretStore, options.connectionsDir) : sessionVault();
  const runtimes = new SandboxRuntimes(vault, options.connectionsDir);
  // The console's own sandbox fires its schedules while the console has it open, live when its settings say so.
  const local = (runtime: SandboxRuntime, demo?: boolean) =>
    openSandbox({ runSchedules: true, backgroundVerify: {}, ...options.sandbox, ...runtime, timeScale: options.sandbox.timeScale ?? DEFAULT_TIME_SCALE, ...(demo ? { demo } : {}) });
  const backend = await local(await runtimes.runtime(SANDBOX_ID));
  try {
    const connections = await createConnectionManager({
      sandbox: { backend, path: options.sandbox.path, reopen: (runtime) => local(runtime), reopenWithDemo: (runtime) => local(runtime, true) },
      // Other sandbox files (snapshots, rehearsal copies) run at the console's pace, as the operator.
      openSandboxFile: (path, runtime) => openSandbox({ path, actor: backend.defaultActor, timeScale: options.sandbox.timeScale ?? DEFAULT_TIME_SCALE, backgroundVerify: {}, ...runtime }),
      openDemoSandbox: (path) => openSandbox({ path, actor: backend.defaultActor, timeScale: options.sandbox.timeScale ?? DEFAULT_TIME_SCALE, demo: true, backgroundVerify: {} }),
      dir: options.connectionsDir,
      vault,
      runtimes,
      createRemote: options.createRemote,
      ...(options.sso ? { sso: options.sso } : {}),
    });
    const service = createConsoleService({ connections, ...(options.saveText ? { saveText: options.saveText } : {}), ...(options.notify ? { notify: options.notify } : {}) });
    return {
      connections,
      service,
      async close() {
        await service.close();
        await connections.close();
      },
    };
  } catch (err) {
    await backend.close();
    throw err;
  }
}
