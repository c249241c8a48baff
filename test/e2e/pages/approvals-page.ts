import type { Locator, Page } from '@playwright/test';

/** Locators of approvals: the home's requests, the inspector's panel, the production confirmation. */
export class ApprovalsPage {
  constructor(readonly page: Page) {}

  get requests(): Locator {
    return this.page.getByTestId('home-waiting');
  }
  request(runId: string): Locator {
    return this.page.locator(`[data-testid="home-waiting"][data-run-id="${runId}"]`);
  }
  approveOf(runId: string): Locator {
    return this.request(runId).getByTestId('home-approve');
  }
  denyOf(runId: string): Locator {
    return this.request(runId).getByTestId('home-deny');
  }
  get homeTitle(): Locator {
    return this.page.getByTestId('home-title');
  }
  get confirmDialog(): Locator {
    return this.page.getByTestId('approval-confirm-dialog');
  }
  get confirmSubmit(): Locator {
    return this.page.getByTestId('approval-confirm-submit');
  }
  get confirmComment(): Locator {
    return this.page.getByTestId('approval-confirm-comment');
  }
  get panel(): Locator {
    return this.page.getByTestId('approval-panel');
  }
}
