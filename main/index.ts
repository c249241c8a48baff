import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { app, BrowserWindow, dialog, ipcMain, Menu, Notification, safeStorage, session, shell, type MenuItemConstructorOptions } from 'electron';
import { toErrorData } from './engine/errors.js';
import type { SecretStore } from './ipc/connections/token-vault.js';
import { createRemoteBackend } from './ipc/connections/remote-factory.js';
import { createSenderCheck, pushToWebContents, registerIpcHandlers, trustedRendererUrl } from './ipc/ipc-handlers.js';
import { openConsole, type OpenedConsole } from './ipc/open-console.js';
import { defaultUserDataDir, SANDBOX_FILE } from './ipc/user-data.js';
import { contentSecurityPolicy } from './web/csp.js';

/*
 * The Electron shell: one sandboxed window, the console API over IPC, nothing else. Everything
 * behind it (service, connections, engine) is plain Node and receives Electron's pieces as parameters.
 */

const PRELOAD = fileURLToPath(new URL('../preload/index.cjs', import.meta.url));
const RENDERER_HTML = fileURLToPath(new URL('../renderer/index.html', import.meta.url));
/** electron-vite's dev server, in development only: a packaged app always loads its own files. */
const DEV_SERVER = !app.isPackaged ? process.env.ELECTRON_RENDERER_URL : undefined;

// Every renderer sandboxed, whatever a window's options say.
app.enableSandbox();
// Pinned, so the desktop app and `npm run web` share one sandbox; `--rewind-data-dir=DIR` isolates a run (tests).
const dataDir = app.commandLine.getSwitchValue('rewind-data-dir') || defaultUserDataDir();
app.setPath('userData', dataDir);

/** Electron's keychain. On Linux without a keyring it falls back to a fixed key ('basic_text'): we count that as no keychain. */
const secretStore: SecretStore = {
  isEncryptionAvailable: () =>
    safeStorage.isEncryptionAvailable() && !(process.platform === 'linux' && safeStorage.getSelectedStorageBackend() === 'basic_text'),
  encryptString: (plainText) => safeStorage.encryptString(plainText),
  decryptString: (encrypted) => safeStorage.decryptString(encrypted),
};

function codeDirOption(): { codeDir: string; codeLog: (level: 'info' | 'warn', message: string) => void } | Record<string, never> {
  const dir = app.commandLine.getSwitchValue('rewind-code-dir') || process.env.REWIND_CODE_DIR;
  return dir ? { codeDir: dir, codeLog: (_level, message) => process.stderr.write(`${message}\n`) } : {};
}

let consoleApp: OpenedConsole | null = null;
let mainWindow: BrowserWindow | null = null;

function hardenSessions(): void {
  const csp = contentSecurityPolicy(DEV_SERVER === undefined ? {} : { devServer: new URL(DEV_SERVER).origin });
  session.defaultSession.webRequest.onHeadersReceived((details, callback) => {
    callback({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [csp] } });
  });
  // The console needs no camera, notifications, clipboard-read, geolocation…: deny every request and check.
  session.defaultSession.setPermissionRequestHandler((_webContents, _permission, callback) => callback(false));
  session.defaultSession.setPermissionCheckHandler(() => false);
}

// Applies to every web contents, including any a bug might create: no navigation, no new windows, no webviews.
app.on('web-contents-created', (_event, contents) => {
  contents.on('will-navigate', (event) => event.preventDefault());
  contents.on('will-redirect', (event) => event.preventDefault());
  contents.on('will-attach-webview', (event) => event.preventDefault());
  contents.setWindowOpenHandler(() => ({ action: 'deny' }));
});

function createWindow(opened: OpenedConsole): BrowserWindow {
  const win = new BrowserWindow({
    width: 1440,
    height: 900,
    minWidth: 960,
    minHeight: 600,
    show: false,
    title: 'Rewind',
    backgroundColor: '#0f1115',
    webPreferences: {
      // Reviewed (electronegativity's PRELOAD_JS_CHECK asks for it): a sandboxed, bundled preload exposing one
      // contextBridge method per contract operation, every payload parsed in main.
      preload: PRELOAD, // eng-disable PRELOAD_JS_CHECK
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      navigateOnDragDrop: false,
      spellcheck: false,
      // A middle click would otherwise open a link in a new window, past the will-navigate guard.
      disableBlinkFeatures: 'Auxclick',
    },
  });
  const stopPushes = opened.connections.onPush(pushToWebContents(win.webContents));
  win.on('closed', () => {
    stopPushes();
    if (mainWindow === win) mainWindow = null;
  });
  win.once('ready-to-show', () => win.show());
  if (DEV_SERVER !== undefined) void win.loadURL(DEV_SERVER);
  else void win.loadFile(RENDERER_HTML);
  return win;
}

function buildMenu(): Menu {
  const isMac = process.platform === 'darwin';
  const template: MenuItemConstructorOptions[] = [
    ...(isMac ? [{ role: 'appMenu' as const }] : []),
    { label: 'File', submenu: [isMac ? { role: 'close' } : { role: 'quit' }] },
    { role: 'editMenu' },
    {
      label: 'View',
      submenu: [
        { role: 'reload' },
        ...(app.isPackaged ? [] : [{ role: 'toggleDevTools' as const }]),
        { type: 'separator' },
        { role: 'resetZoom' },
        { role: 'zoomIn' },
        { role: 'zoomOut' },
        { type: 'separator' },
        { role: 'togglefullscreen' },
      ],
    },
    { role: 'windowMenu' },
  ];
  return Menu.buildFromTemplate(template);
}

async function start(): Promise<void> {
  hardenSessions();
  Menu.setApplicationMenu(buildMenu());
  const opened = await openConsole({
    // Workflows as code in the desktop sandbox: --rewind-code-dir=DIR or REWIND_CODE_DIR, as the server's --code-dir.
    sandbox: { path: join(dataDir, SANDBOX_FILE), demo: true, ...codeDirOption() },
    connectionsDir: dataDir,
    secretStore,
    createRemote: createRemoteBackend,
    // "Sign in with SSO" in the person's own browser (RFC 8252). Reviewed (electronegativity's OPEN_EXTERNAL_JS_CHECK):
    // the sign-in passes only the identity provider's authorization endpoint, https, through main/sign-in/external-opener.ts.
    sso: { kind: 'system-browser', open: (url) => shell.openExternal(url) }, // eng-disable OPEN_EXTERNAL_JS_CHECK
    saveText: async (fileName, text) => {
      const window = BrowserWindow.getFocusedWindow();
      const options = { defaultPath: join(app.getPath('documents'), fileName) };
      const picked = window ? await dialog.showSaveDialog(window, options) : await dialog.showSaveDialog(options);
      if (picked.canceled || !picked.filePath) return null;
      await writeFile(picked.filePath, text, 'utf8');
      return picked.filePath;
    },
    // Native notifications come from here, not the page (its permission requests are all denied).
    notify: ({ title, body }, onClick) => {
      if (!Notification.isSupported()) return false;
      const notification = new Notification({ title, body });
      notification.on('click', () => {
        if (mainWindow) {
          if (mainWindow.isMinimized()) mainWindow.restore();
          mainWindow.show();
          mainWindow.focus();
        }
        onClick();
      });
      notification.show();
      return true;
    },
  });
  consoleApp = opened;
  const isTrustedUrl = trustedRendererUrl(
    DEV_SERVER === undefined ? { fileUrl: pathToFileURL(RENDERER_HTML).href } : { devOrigin: DEV_SERVER },
  );
  registerIpcHandlers({
    ipcMain,
    service: opened.service,
    isTrustedSender: createSenderCheck({ webContents: () => mainWindow?.webContents, isTrustedUrl }),
  });
  mainWindow = createWindow(opened);
  app.on('activate', () => {
    if (mainWindow === null) mainWindow = createWindow(opened);
  });
}

if (!app.requestSingleInstanceLock()) {
  app.quit();
} else {
  app.on('second-instance', () => {
    if (!mainWindow) return;
    if (mainWindow.isMinimized()) mainWindow.restore();
    mainWindow.focus();
  });
  app.on('window-all-closed', () => {
    if (process.platform !== 'darwin') app.quit();
  });
  // End rehearsals under way (their records kept), close the sandbox and remote streams, then quit.
  let quit: 'running' | 'closing' | 'closed' = 'running';
  app.on('before-quit', (event) => {
    if (quit === 'closed' || !consoleApp) return;
    event.preventDefault();
    if (quit === 'closing') return;
    quit = 'closing';
    void consoleApp.close().finally(() => {
      quit = 'closed';
      app.quit();
    });
  });
  app.whenReady().then(start).catch((err: unknown) => {
    const e = toErrorData(err);
    // From a checkout (`npm start`) the reason goes to the terminal, and the launcher falls back to browser mode.
    if (app.isPackaged) dialog.showErrorBox('Rewind could not start', `${e.message}\n\n${e.hint}`);
    else process.stderr.write(`Rewind could not start: ${e.message}\n${e.hint}\n`);
    app.exit(1);
  });
}
