import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/unit/**/*.test.ts', 'test/unit/**/*.test.tsx', 'test/integration/**/*.test.ts'],
    // better-sqlite3 is a native addon: forks isolate it per worker process.
    pool: 'forks',
    // The compiled CLI/server the integration tests spawn (built when stale), and PostgreSQL for the
    // tests that ask for it (started on first use; see test/support/postgres.ts).
    globalSetup: ['test/support/build-node.setup.ts', 'test/support/postgres-global-setup.ts'],
    // Every answer a test gets from a workflow server is checked against the OpenAPI document it serves.
    setupFiles: ['test/support/openapi-conformance.setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
