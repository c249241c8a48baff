import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { RewindError } from '../engine/errors.js';

/*
 * Where the webhook key lives — never in the database it protects:
 * 1. REWIND_WEBHOOK_KEY (32 bytes as 64 hex digits or base64): what every PostgreSQL replica must
 *    share, from a secret store or the process supervisor's environment file;
 * 2. --webhook-key-file FILE holding that value;
 * 3. for a SQLite database FILE, `FILE.webhook-key` beside it, created (mode 0600) on first start.
 * A PostgreSQL server without one runs without webhooks, and says so.
 */

export type KeySource = { key: Buffer; where: string } | null;

export function parseWebhookKey(text: string, where: string): Buffer {
  const value = text.trim();
  const key = /^[0-9a-fA-F]{64}$/.test(value) ? Buffer.from(value, 'hex') : Buffer.from(value, 'base64');
  if (key.length !== 32) {
    throw new RewindError(
      'VALIDATION_FAILED',
      `The webhook key in ${where} is not 32 bytes (64 hex digits or 44 base64 characters).`,
      'Generate one with `openssl rand -hex 32`, and give every replica the same.',
    );
  }
  return key;
}

/**
 * The key from REWIND_WEBHOOK_KEY or --webhook-key-file, else (a SQLite database, once it has opened)
 * the key file beside it, made if missing. Call it with `sqlitePath` only after the store opened:
 * a database path refused at start must not get a file made beside it.
 */
export function loadWebhookKey(options: { env?: string | undefined; file?: string | undefined; sqlitePath?: string | null }): KeySource {
  if (options.env) return { key: parseWebhookKey(options.env, 'REWIND_WEBHOOK_KEY'), where: 'REWIND_WEBHOOK_KEY' };
  if (options.file) return { key: parseWebhookKey(readFileSync(options.file, 'utf8'), options.file), where: options.file };
  if (!options.sqlitePath) return null;
  // An in-memory database keeps its sealed secrets only as long as it lives: so does its key (no file named ':memory:.webhook-key').
  if (options.sqlitePath === ':memory:') return { key: randomBytes(32), where: 'memory (an in-memory database)' };
  const path = `${options.sqlitePath}.webhook-key`;
  try {
    if (!existsSync(path)) writeFileSync(path, `${randomBytes(32).toString('hex')}\n`, { mode: 0o600, flag: 'wx' });
  } catch {
    // A folder that cannot take the key file (missing, read-only) is the database's problem too: opening
    // the store names it with its remedy. Should the store open anyway, the server runs without webhooks, and says so.
    return null;
  }
  return { key: parseWebhookKey(readFileSync(path, 'utf8'), path), where: path };
}
