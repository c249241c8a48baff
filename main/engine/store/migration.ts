/**
 * One numbered schema step of a store: numbered in gaps of 10, the same number for the same schema on
 * SQLite and PostgreSQL (SQLite records the last applied in `PRAGMA user_version`, PostgreSQL in
 * `schema_migrations`). Each store's registry lists its own, in order; append only.
 */
export interface Migration {
  version: number;
  name: string;
  up: string;
}
