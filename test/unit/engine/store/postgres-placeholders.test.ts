import { describe, expect, it } from 'vitest';
import { RewindError } from '../../../../main/engine/errors.js';
import { numberPlaceholders } from '../../../../main/engine/store/postgres/placeholders.js';
import { isPostgresUrl, parsePostgresUrl } from '../../../../main/engine/store/postgres/url.js';

describe('the PostgreSQL adapter’s placeholders', () => {
  it('numbers each ? in order', () => {
    expect(numberPlaceholders('SELECT * FROM runs WHERE workflow_id = ? AND status IN (?, ?) LIMIT ?')).toBe(
      'SELECT * FROM runs WHERE workflow_id = $1 AND status IN ($2, $3) LIMIT $4',
    );
  });

  it('leaves a ? inside strings, quoted identifiers and comments alone', () => {
    expect(numberPlaceholders("SELECT 'it''s ?', \"odd?col\" FROM t -- why?\nWHERE a = ? /* or ? */ AND b LIKE ? ESCAPE '\\'")).toBe(
      "SELECT 'it''s ?', \"odd?col\" FROM t -- why?\nWHERE a = $1 /* or ? */ AND b LIKE $2 ESCAPE '\\'",
    );
  });

  it('gives the same translation for the same statement (cached)', () => {
    const sql = 'UPDATE workflows SET revision = ? WHERE id = ?';
    expect(numberPlaceholders(sql)).toBe(numberPlaceholders(sql));
    expect(numberPlaceholders(sql)).toBe('UPDATE workflows SET revision = $1 WHERE id = $2');
  });
});

describe('PostgreSQL URLs', () => {
  it('tells a PostgreSQL URL from a SQLite path', () => {
    expect(isPostgresUrl('postgres://u:p@h/db')).toBe(true);
    expect(isPostgresUrl('postgresql://h/db')).toBe(true);
    expect(isPostgresUrl('./rewind.db')).toBe(false);
  });

  it('reads host, port, database and user, and masks the password', () => {
    expect(parsePostgresUrl('postgres://ops:s%40cret@db.internal:6543/rewind')).toEqual({
      host: 'db.internal',
      port: 6543,
      database: 'rewind',
      user: 'ops',
      redacted: 'postgres://ops:***@db.internal:6543/rewind',
    });
    expect(parsePostgresUrl('postgresql://db/rewind').port).toBe(5432);
  });

  it('refuses a URL without a database, without echoing its password', () => {
    const refusal = (() => {
      try {
        parsePostgresUrl('postgres://ops:hunter2@db:5432/');
      } catch (err) {
        return err;
      }
    })();
    expect(refusal).toBeInstanceOf(RewindError);
    const { code, message, hint } = refusal as RewindError;
    expect(code).toBe('INVALID_DATABASE_URL');
    expect(message).toContain('names no database');
    expect(`${message} ${hint}`).not.toContain('hunter2');
  });
});
