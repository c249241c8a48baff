import type { Migration } from '../../migration.js';

/**
 * The conditions of each rehearsal, as SQLite's 0040 (the time scale, whether actions ran by
 * themselves, whether it ran on a scratch copy), so the recovery-time history compares like with
 * like. Null on older rows. DOUBLE PRECISION is SQLite's REAL (8 bytes); the flags stay 0/1.
 */
export const migration0040: Migration = {
  version: 40,
  name: 'rehearsal-conditions',
  up: `
    ALTER TABLE rehearsals ADD COLUMN time_scale DOUBLE PRECISION;
    ALTER TABLE rehearsals ADD COLUMN auto_executed INTEGER CHECK (auto_executed IS NULL OR auto_executed IN (0, 1));
    ALTER TABLE rehearsals ADD COLUMN scratch_copy INTEGER CHECK (scratch_copy IS NULL OR scratch_copy IN (0, 1));
  `,
};
