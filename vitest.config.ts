import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/unit/**/*.test.ts', 'test/unit/**/*.test.tsx', 'test/integration/**/*.test.ts'],
    // better-sqlite3 is a native addon: forks isolate it per worker process.
    pool: 'forks',
    // PostgreSQL for the tests that ask for it (started on first use; see test/support/postgres.ts).
    globalSetup: ['test/support/postgres-global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
