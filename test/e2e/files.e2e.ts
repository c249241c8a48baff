import { readFile } from 'node:fs/promises';
import { expect, test } from '@playwright/test';
import { ConsolePage } from './pages/console-page.js';
import { RunbooksPage } from './pages/runbooks-page.js';
import { startConsole, type StartedConsole } from './support/console.js';

/*
 * Browser mode's file choices go through the browser, not server-side paths: a runbook is uploaded
 * with a file input (its text sent to runbooks:import), an export is downloaded as a file.
 */

let app: StartedConsole;

test.afterEach(async () => {
  await app?.close();
});

const uploaded = `name: Uploaded from the browser
level: application
description: Rolls back the scoring service.
steps:
  - kind: checklist
    title: Before rolling back
    items: [Tell the on-call channel]
    expected_ms: 30000
  - kind: note
    title: Done
    text: Write the post-incident report.
    expected_ms: 1000
`;

test('upload a runbook file, then download its export', async ({ page }) => {
  app = await startConsole();
  const console_ = new ConsolePage(page);
  const runbooks = new RunbooksPage(page);
  await console_.open(app.url);
  await runbooks.open();
  await expect(runbooks.rows).toHaveCount(5);

  await page.getByTestId('runbook-new').click();
  await page.getByTestId('runbook-file').setInputFiles({ name: 'uploaded.yaml', mimeType: 'application/yaml', buffer: Buffer.from(uploaded) });
  await expect(runbooks.rows).toHaveCount(6);
  await runbooks.rowNamed('Uploaded from the browser').click();
  await expect(runbooks.title).toHaveText('Uploaded from the browser');

  const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('runbook-download-json').click()]);
  expect(download.suggestedFilename()).toMatch(/^Uploaded-from-the-browser.*\.json$/);
  const exported = JSON.parse(await readFile(await download.path(), 'utf8')) as { name: string; steps: Array<{ title: string }> };
  expect(exported).toMatchObject({ name: 'Uploaded from the browser', steps: [{ title: 'Before rolling back' }, { title: 'Done' }] });
});
