import type { Locator, Page } from '@playwright/test';

/** Locators of the "New workflow from template" dialog; specs hold the assertions. */
export class TemplateDialog {
  constructor(readonly page: Page) {}

  get openButton(): Locator {
    return this.page.getByTestId('new-from-template');
  }
  get dialog(): Locator {
    return this.page.getByTestId('template-dialog');
  }
  get select(): Locator {
    return this.page.getByTestId('template-select');
  }
  get description(): Locator {
    return this.page.getByTestId('template-description');
  }
  get workflowName(): Locator {
    return this.page.getByTestId('template-workflow-name');
  }
  param(name: string): Locator {
    return this.page.getByTestId(`template-param-${name}`);
  }
  get params(): Locator {
    return this.page.getByTestId('template-params');
  }
  get create(): Locator {
    return this.page.getByTestId('template-create');
  }
  get error(): Locator {
    return this.page.getByTestId('template-error');
  }
}
