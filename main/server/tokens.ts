import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type Database from 'better-sqlite3';
import type { Engine } from '../engine/engine.js';
import type { Role } from '../../preload/contract/index.js';
import { RewindError } from '../engine/errors.js';
import type { TokenInfo } from './protocol.js';

/** Who a request is: the token's id (for revocation), its name (the audit log's actor) and its role. */
export interface Identity {
  id: string;
  name: string;
  role: Role;
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

/** The server's tokens, in the engine's database (migration 0020). */
export class TokenStore {
  private readonly byHash: Database.Statement<[string], TokenRow>;
  private readonly byId: Database.Statement<[string], TokenRow>;
  private readonly all: Database.Statement<[], TokenRow>;
  private readonly liveCount: Database.Statement<[], { n: number }>;
  private readonly insert: Database.Statement<[string, string, Role, string, string, string]>;
  private readonly markRevoked: Database.Statement<[string, string]>;

  private readonly db: Database.Database;

  /** Token changes are recorded in the engine's hash-chained audit log, in the same transaction. */
  constructor(private readonly engine: Engine) {
    const db = engine.db;
    this.db = db;
    this.byHash = db.prepare('SELECT id, name, role, created_by, created_at, revoked_at FROM tokens WHERE token_hash = ?');
    this.byId = db.prepare('SELECT id, name, role, created_by, created_at, revoked_at FROM tokens WHERE id = ?');
    this.all = db.prepare('SELECT id, name, role, created_by, created_at, revoked_at FROM tokens ORDER BY created_at, id');
    this.liveCount = db.prepare('SELECT count(*) AS n FROM tokens WHERE revoked_at IS NULL');
    this.insert = db.prepare('INSERT INTO tokens (id, name, role, token_hash, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?)');
    this.markRevoked = db.prepare('UPDATE tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL');
  }

  /** The identity a token stands for, or null when it is unknown or revoked. */
  verify(token: string): Identity | null {
    const row = this.byHash.get(hashToken(token));
    if (!row || row.revoked_at !== null) return null;
    return { id: row.id, name: row.name, role: row.role };
  }

  isLive(id: string): boolean {
    const row = this.byId.get(id);
    return row !== undefined && row.revoked_at === null;
  }

  list(): TokenInfo[] {
    return this.all.all();
  }

  /** Issues a token; `token` lets an operator choose it (REWIND_ADMIN_TOKEN), otherwise one is generated. */
  issue(input: { name: string; role: Role; createdBy: string; token?: string }): { info: TokenInfo; token: string } {
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
    try {
      this.engine.mutate(() => {
        this.insert.run(id, input.name, input.role, hashToken(token), input.createdBy, now);
        this.engine.append({ type: 'token_issued', actor: input.createdBy, ts: now, payload: { token_id: id, name: input.name, role: input.role } });
      });
    } catch (err) {
      if (err instanceof Error && 'code' in err && String(err.code).startsWith('SQLITE_CONSTRAINT')) {
        throw new RewindError(
          'DUPLICATE_NAME',
          `A live token named "${input.name}" exists (or the token value is already in use).`,
          'Pick another name, or revoke the existing token first.',
        );
      }
      throw err;
    }
    return { info: { id, name: input.name, role: input.role, created_by: input.createdBy, created_at: now, revoked_at: null }, token };
  }

  revoke(id: string, actor: string): TokenInfo {
    const revokedAt = new Date().toISOString();
    this.engine.mutate(() => {
      const row = this.byId.get(id);
      if (this.markRevoked.run(revokedAt, id).changes > 0 && row) {
        this.engine.append({ type: 'token_revoked', actor, ts: revokedAt, payload: { token_id: id, name: row.name, role: row.role } });
      }
    });
    const row = this.byId.get(id);
    if (!row) throw new RewindError('NOT_FOUND', `No token with id ${id}.`, 'List the tokens (GET /api/v1/tokens) for their ids.');
    return row;
  }

  /**
   * A server must not start unreachable: on a database with no live token, the chosen admin token
   * (REWIND_ADMIN_TOKEN) is stored, or one is generated and returned so the caller can print it once.
   */
  bootstrapAdmin(chosen: string | undefined): { token: string; generated: boolean } | null {
    return this.engine.mutate(() => {
      if (this.liveCount.get()!.n > 0) return null;
      const { token } = this.issue({ name: 'admin', role: 'admin', createdBy: 'bootstrap', ...(chosen ? { token: chosen } : {}) });
      return { token, generated: chosen === undefined };
    });
  }
}
