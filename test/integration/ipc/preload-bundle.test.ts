import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import vm from 'node:vm';
import { describe, expect, it } from 'vitest';
import { consoleApiMethodNames, consoleEvents, splitMethod } from '../../../preload/contract/index.js';
import { tempDir } from './helpers.js';

const ROOT = resolve(import.meta.dirname, '../../..');
const BUILT = join(ROOT, 'out/preload/index.cjs');

function newestSource(dir: string): number {
  return Math.max(
    ...readdirSync(dir, { recursive: true, encoding: 'utf8' })
      .filter((f) => f.endsWith('.ts'))
      .map((f) => statSync(join(dir, f)).mtimeMs),
  );
}

/** out/preload/index.cjs when it is current; otherwise a fresh build of the same config into a temp folder. */
function preloadBundle(): string {
  if (existsSync(BUILT) && statSync(BUILT).mtimeMs >= newestSource(join(ROOT, 'preload'))) return BUILT;
  const out = tempDir();
  execFileSync(process.execPath, [join(ROOT, 'node_modules/electron-vite/bin/electron-vite.js'), 'build', '--outDir', out], { cwd: ROOT, stdio: 'pipe' });
  return join(out, 'preload/index.cjs');
}

/**
 * Runs the bundle as Electron runs a sandboxed preload: one CommonJS function in a fresh context
 * whose `require` knows only 'electron' — no Node built-ins, no node_modules, no `process`.
 */
function loadLikeElectronSandbox(file: string) {
  const required: string[] = [];
  const exposed = new Map<string, unknown>();
  const invoked: Array<[string, unknown[]]> = [];
  const electron = {
    contextBridge: { exposeInMainWorld: (key: string, api: unknown) => exposed.set(key, api) },
    ipcRenderer: {
      invoke: async (channel: string, ...args: unknown[]) => {
        invoked.push([channel, args]);
        return { ok: true, value: null };
      },
      on: () => undefined,
      removeListener: () => undefined,
    },
  };
  const sandboxRequire = (id: string) => {
    required.push(id);
    if (id === 'electron') return electron;
    throw new Error(`Cannot find module '${id}' (a sandboxed preload can require only electron)`);
  };
  const module = { exports: {} };
  const context = vm.createContext({ console });
  const wrapped = vm.runInContext(`(function (exports, require, module) {${readFileSync(file, 'utf8')}\n})`, context, { filename: file }) as (
    exports: unknown,
    require: (id: string) => unknown,
    module: unknown,
  ) => void;
  wrapped(module.exports, sandboxRequire, module);
  return { required, exposed, invoked };
}

describe('the built preload bundle', () => {
  it('is one CommonJS file that requires only electron and exposes every contract method', async () => {
    const { required, exposed, invoked } = loadLikeElectronSandbox(preloadBundle());
    expect([...new Set(required)]).toEqual(['electron']);
    expect([...exposed.keys()]).toEqual(['rewind']);
    const rewind = exposed.get('rewind') as Record<string, Record<string, (input?: unknown) => Promise<unknown>> | ((...a: unknown[]) => unknown)>;

    const methods = Object.entries(rewind).flatMap(([ns, value]) => (ns === 'on' ? [] : Object.keys(value).map((m) => `${ns}:${m}`)));
    expect(methods.sort()).toEqual([...consoleApiMethodNames].sort());
    expect(typeof rewind.on).toBe('function');

    for (const method of consoleApiMethodNames) {
      const [ns, name] = splitMethod(method);
      await (rewind[ns] as Record<string, (input?: unknown) => Promise<unknown>>)[name]?.({});
    }
    expect(invoked.map(([channel]) => channel)).toEqual(consoleApiMethodNames);
    const on = rewind.on as (event: string, l: () => void) => () => void;
    for (const event of Object.keys(consoleEvents)) expect(typeof on(event, () => undefined)).toBe('function');
  });
});
