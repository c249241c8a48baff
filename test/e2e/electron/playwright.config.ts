import { defineConfig } from '@playwright/test';

/**
 * The Electron-only specs (`npx playwright test -c test/e2e/electron`): they launch the built app
 * with Playwright's `_electron`, so they need `npm run build` first, an Electron binary and a display.
 * Where either is missing every spec is skipped with the reason printed.
 */
export default defineConfig({
  testDir: '.',
  testMatch: '**/*.e2e.ts',
  outputDir: '../../../test-results/electron',
  workers: 1,
  forbidOnly: !!process.env.CI,
  timeout: 60_000,
  reporter: 'list',
});
