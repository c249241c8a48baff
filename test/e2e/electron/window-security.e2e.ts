import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { _electron as electron, expect, test, type ElectronApplication } from '@playwright/test';
import { findElectron } from '../../../scripts/electron-binary.mjs';

/*
 * Electron-only: the real window's security settings and bridge. They need an Electron binary and a
 * display; where either is missing they are skipped, and say why.
 */

const ROOT = resolve(import.meta.dirname, '../../..');
const found = findElectron();
const skipReason = found.binary === null ? `Electron-only test skipped: ${found.reason}.` : '';
if (skipReason) console.log(skipReason);

test.describe('desktop window (Electron)', () => {
  test.skip(found.binary === null, skipReason);

  let app: ElectronApplication;
  let dataDir: string;

  test.beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'rewind-electron-'));
    app = await electron.launch({
      executablePath: found.binary ?? undefined,
      args: [ROOT, `--rewind-data-dir=${dataDir}`],
    });
  });

  test.afterAll(async () => {
    await app?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  test('one window with context isolation, the sandbox, no Node integration and web security', async () => {
    const prefs = await app.evaluate(({ BrowserWindow }) => {
      const windows = BrowserWindow.getAllWindows();
      // Undocumented in the typings but public at runtime (Electron's own specs read it): the preferences actually applied.
      const contents = windows[0]?.webContents as unknown as { getLastWebPreferences(): Record<string, unknown> } | undefined;
      const p = contents?.getLastWebPreferences();
      return { count: windows.length, contextIsolation: p?.contextIsolation, sandbox: p?.sandbox, nodeIntegration: p?.nodeIntegration, webSecurity: p?.webSecurity, webviewTag: p?.webviewTag };
    });
    expect(prefs).toEqual({ count: 1, contextIsolation: true, sandbox: true, nodeIntegration: false, webSecurity: true, webviewTag: false });
  });

  test('the page has window.rewind built from the contract and no Node globals', async () => {
    const page = await app.firstWindow();
    await page.waitForLoadState('domcontentloaded');
    const seen = await page.evaluate(() => {
      const w = window as unknown as Record<string, unknown> & { rewind?: Record<string, Record<string, unknown>> };
      return {
        list: typeof w.rewind?.workflows?.list,
        rollback: typeof w.rewind?.versions?.rollback,
        on: typeof w.rewind?.on,
        nodeGlobals: ['require', 'process', 'module', 'Buffer', 'global', '__dirname'].filter((k) => k in w),
        ipcRenderer: 'ipcRenderer' in (w.rewind ?? {}),
      };
    });
    expect(seen).toEqual({ list: 'function', rollback: 'function', on: 'function', nodeGlobals: [], ipcRenderer: false });
    const answer = await page.evaluate(async () => {
      const rewind = (window as unknown as { rewind: { connections: { list: (i: object) => Promise<unknown> } } }).rewind;
      return rewind.connections.list({});
    });
    expect(answer).toMatchObject({ ok: true, value: { connections: [expect.objectContaining({ id: 'sandbox', selected: true })] } });
  });

  test('new windows and navigation away are refused', async () => {
    const page = await app.firstWindow();
    const before = page.url();
    expect(await page.evaluate(() => window.open('https://example.com') === null)).toBe(true);
    await page.evaluate(() => {
      window.location.href = 'https://example.com/';
    });
    await page.waitForTimeout(500);
    expect(page.url()).toBe(before);
    expect(await app.evaluate(({ BrowserWindow }) => BrowserWindow.getAllWindows().length)).toBe(1);
  });
});
