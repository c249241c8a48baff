import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadWebhookKey } from '../../../main/server/webhook-key.js';

describe('the webhook key of a SQLite server', () => {
  const dirs: string[] = [];
  const cwd = process.cwd();
  afterEach(() => {
    process.chdir(cwd);
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('is made once beside a database file (0600) and read back the same', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rewind-key-'));
    dirs.push(dir);
    const db = join(dir, 'server.db');
    const first = loadWebhookKey({ sqlitePath: db });
    expect(first?.where).toBe(`${db}.webhook-key`);
    expect(statSync(`${db}.webhook-key`).mode & 0o777).toBe(0o600);
    expect(loadWebhookKey({ sqlitePath: db })?.key.equals(first!.key)).toBe(true);
    expect(readFileSync(`${db}.webhook-key`, 'utf8').trim()).toHaveLength(64);
  });

  it('lives in memory for an in-memory database: no file named after it appears in the working folder', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rewind-key-'));
    dirs.push(dir);
    process.chdir(dir);
    const source = loadWebhookKey({ sqlitePath: ':memory:' });
    expect(source?.key).toHaveLength(32);
    expect(existsSync(join(dir, ':memory:.webhook-key'))).toBe(false);
  });
});
