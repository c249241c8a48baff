import type Database from 'better-sqlite3';
import type { Migration } from '../../migration.js';

/** A SQLite migration: SQL text, or a function of the open database for a step plain SQL cannot say (inside the same transaction). */
export type SqliteMigration = Migration | (Omit<Migration, 'up'> & { up: (db: Database.Database) => void });
