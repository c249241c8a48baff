import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/unit/**/*.test.ts', 'test/unit/**/*.test.tsx', 'test/integration/**/*.test.ts'],
    // better-sqlite3 is a native addon: forks isolate it per worker process.
    pool: 'forks',
    globalSetup: ['test/support/build-node.setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
