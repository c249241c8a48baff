import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { stale } from '../../../scripts/build-if-needed.mjs';

/** What `npm start`, `npm run web`, `npm run cli` and `npm run server` decide before running: build first or not. */
describe('the build freshness check', () => {
  const dirs: string[] = [];
  afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

  function tree() {
    const root = mkdtempSync(join(tmpdir(), 'rewind-fresh-'));
    dirs.push(root);
    mkdirSync(join(root, 'main/deep'), { recursive: true });
    mkdirSync(join(root, 'out'));
    const at = (path: string, seconds: number) => {
      writeFileSync(join(root, path), 'x');
      utimesSync(join(root, path), seconds, seconds);
    };
    return { root, at, outputs: [join(root, 'out/a.mjs'), join(root, 'out/b.mjs')], sources: [join(root, 'main')] };
  }

  it('builds when an output is missing (a fresh clone)', () => {
    const t = tree();
    t.at('main/deep/x.ts', 1000);
    t.at('out/a.mjs', 2000);
    expect(stale(t.outputs, t.sources)).toBe(true);
  });

  it('runs as is when every output is newer than every source', () => {
    const t = tree();
    t.at('main/deep/x.ts', 1000);
    t.at('out/a.mjs', 2000);
    t.at('out/b.mjs', 2000);
    expect(stale(t.outputs, t.sources)).toBe(false);
  });

  it('builds when any source, however deep, is newer than the oldest output', () => {
    const t = tree();
    t.at('main/deep/x.ts', 1000);
    t.at('out/a.mjs', 2000);
    t.at('out/b.mjs', 3000);
    t.at('main/deep/y.ts', 2500);
    expect(stale(t.outputs, t.sources)).toBe(true);
  });
});
