import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { Engine } from '../engine/engine.js';
import type { Role } from '../../preload/contract/index.js';
import { RewindError } from '../engine/errors.js';
import type { TokenInfo } from '../protocol/wire.js';

/**
 * Who a request is: an id (a token's, for revocation; a person's `oidc:<sub>`), the name the audit log
 * names as actor (the token's name, or the person), the role, how they came in, and — for a person's
 * JWT — until when it is accepted (ms since the epoch; the stream closes then) and its own exp.
 */
export interface Identity {
  id: string;
  name: string;
  role: Role;
  via: 'token' | 'oidc';
  acceptedUntil: number | null;
  expiresAt: number | null;
}

interface TokenRow {
  id: string;
  name: string;
  role: Role;
  created_by: string;
  created_at: string;
  revoked_at: string | null;
}

const MIN_TOKEN_LENGTH = 16;

/** Only the hash reaches the disk: a copied database file does not hand out working tokens. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** 256 random bits, prefixed so a leaked token is recognisable in logs and by secret scanners. */
export function generateToken(): string {
  return `rwt_${randomBytes(32).toString('base64url')}`;
}

const COLUMNS = 'id, name, role, created_by, created_at, revoked_at';
const BY_HASH = `SELECT ${COLUMNS} FROM tokens WHERE token_hash = ?`;
const BY_ID = `SELECT ${COLUMNS} FROM tokens WHERE id = ?`;
const ALL = `SELECT ${COLUMNS} FROM tokens ORDER BY created_at, id`;
const LIVE_COUNT = 'SELECT COUNT(*) AS n FROM tokens WHERE revoked_at IS NULL';
const CLASHES = 'SELECT COUNT(*) AS n FROM tokens WHERE token_hash = ? OR (name = ? AND revoked_at IS NULL)';
const INSERT = 'INSERT INTO tokens (id, name, role, token_hash, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?)';
const MARK_REVOKED = 'UPDATE tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL';

/** The server's tokens, in the engine's store (migration 0020). */
export class TokenStore {
  /** Token changes are recorded in the engine's hash-chained audit log, in the same unit of work. */
  constructor(private readonly engine: Engine) {}

  /** The identity a token stands for, or null when it is unknown or revoked. */
  async verify(token: string): Promise<Identity | null> {
    const row = await this.engine.q().get<TokenRow>(BY_HASH, [hashToken(token)]);
    if (!row || row.revoked_at !== null) return null;
    return { id: row.id, name: row.name, role: row.role, via: 'token', acceptedUntil: null, expiresAt: null };
  }

  async isLive(id: string): Promise<boolean> {
    const row = await this.engine.q().get<TokenRow>(BY_ID, [id]);
    return row !== undefined && row.revoked_at === null;
  }

  list(): Promise<TokenInfo[]> {
    return this.engine.q().all<TokenRow>(ALL);
  }

  /** Issues a token; `token` lets an operator choose it (REWIND_ADMIN_TOKEN), otherwise one is generated. */
  async issue(input: { name: string; role: Role; createdBy: string; token?: string }): Promise<{ info: TokenInfo; token: string }> {
    const token = input.token ?? generateToken();
    if (token.length < MIN_TOKEN_LENGTH) {
      throw new RewindError(
        'VALIDATION_FAILED',
        `A token must be at least ${MIN_TOKEN_LENGTH} characters.`,
        'Use a long random value, e.g. `openssl rand -base64 32`, or let the server generate one.',
      );
    }
    const id = randomUUID();
    const now = new Date().toISOString();
    const hash = hashToken(token);
    await this.engine.mutate(async () => {
      // Checked under the unit of work's head lock, so no other writer can slip a clash in between.
      const { n } = (await this.engine.q().get<{ n: number }>(CLASHES, [hash, input.name]))!;
      if (n > 0) {
        throw new RewindError(
          'DUPLICATE_NAME',
          `A live token named "${input.name}" exists (or the token value is already in use).`,
          'Pick another name, or revoke the existing token first.',
        );
      }
      await this.engine.q().run(INSERT, [id, input.name, input.role, hash, input.createdBy, now]);
      await this.engine.append({ type: 'token_issued', actor: input.createdBy, ts: now, payload: { token_id: id, name: input.name, role: input.role } });
    });
    return { info: { id, name: input.name, role: input.role, created_by: input.createdBy, created_at: now, revoked_at: null }, token };
  }

  async revoke(id: string, actor: string): Promise<TokenInfo> {
    const revokedAt = new Date().toISOString();
    await this.engine.mutate(async () => {
      const row = await this.engine.q().get<TokenRow>(BY_ID, [id]);
      if ((await this.engine.q().run(MARK_REVOKED, [revokedAt, id])).changes > 0 && row) {
        await this.engine.append({ type: 'token_revoked', actor, ts: revokedAt, payload: { token_id: id, name: row.name, role: row.role } });
      }
    });
    const row = await this.engine.q().get<TokenRow>(BY_ID, [id]);
    if (!row) throw new RewindError('NOT_FOUND', `No token with id ${id}.`, 'List the tokens (GET /api/v1/tokens) for their ids.');
    return row;
  }

  /**
   * A server must not start unreachable: on a database with no live token, the chosen admin token
   * (REWIND_ADMIN_TOKEN) is stored, or one is generated and returned so the caller can print it once.
   */
  bootstrapAdmin(chosen: string | undefined): Promise<{ token: string; generated: boolean } | null> {
    return this.engine.mutate(async () => {
      if ((await this.engine.q().get<{ n: number }>(LIVE_COUNT))!.n > 0) return null;
      const { token } = await this.issue({ name: 'admin', role: 'admin', createdBy: 'bootstrap', ...(chosen ? { token: chosen } : {}) });
      return { token, generated: chosen === undefined };
    });
  }
}
