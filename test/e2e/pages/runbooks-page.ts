import { expect, type Locator, type Page } from '@playwright/test';

/** Locators and steps of the Runbooks view: list, rehearse panel, history and report. */
export class RunbooksPage {
  constructor(readonly page: Page) {}

  async open(): Promise<void> {
    await this.page.getByTestId('nav-runbooks').click();
    await expect(this.page.getByTestId('runbooks-view')).toBeVisible();
  }

  get rows(): Locator {
    return this.page.getByTestId('runbook-row');
  }
  rowNamed(part: string): Locator {
    return this.rows.filter({ hasText: part });
  }
  get title(): Locator {
    return this.page.getByTestId('runbook-title');
  }
  tab(id: 'rehearse' | 'history' | 'edit'): Locator {
    return this.page.getByTestId(`runbook-tab-${id}`);
  }

  get scenario(): Locator {
    return this.page.getByTestId('rehearse-scenario');
  }
  get timeScale(): Locator {
    return this.page.getByTestId('rehearse-time-scale');
  }
  get start(): Locator {
    return this.page.getByTestId('rehearse-start');
  }
  get pace(): Locator {
    return this.page.getByTestId('rehearse-pace');
  }
  get resetOffer(): Locator {
    return this.page.getByTestId('rehearse-reset-offer');
  }
  get resetFirst(): Locator {
    return this.page.getByTestId('rehearse-reset-first');
  }
  get pacesInHistory(): Locator {
    return this.page.getByTestId('history-pace');
  }

  get run(): Locator {
    return this.page.getByTestId('rehearsal-run');
  }
  get steps(): Locator {
    return this.page.getByTestId('rehearsal-step');
  }
  get currentStep(): Locator {
    return this.page.locator('[data-testid="rehearsal-step"][aria-current="step"]');
  }
  get stepTimer(): Locator {
    return this.page.getByTestId('step-timer');
  }
  get elapsed(): Locator {
    return this.page.getByTestId('rehearsal-elapsed');
  }
  get next(): Locator {
    return this.page.getByTestId('rehearsal-next');
  }
  get confirmation(): Locator {
    return this.page.getByTestId('rehearsal-confirmation');
  }
  get confirm(): Locator {
    return this.page.getByTestId('rehearsal-confirm');
  }
  get result(): Locator {
    return this.page.getByTestId('rehearsal-result');
  }
  get reportLink(): Locator {
    return this.page.getByTestId('rehearsal-report');
  }

  get chart(): Locator {
    return this.page.getByTestId('history-chart');
  }
  get points(): Locator {
    return this.page.getByTestId('history-point');
  }
  get historyRows(): Locator {
    return this.page.getByTestId('history-row');
  }
  get report(): Locator {
    return this.page.getByTestId('report-text');
  }
  get reportDialog(): Locator {
    return this.page.getByTestId('report-dialog');
  }

  /** Picks a runbook and starts its rehearsal under the scenario the runbook names, with fast waits (paced unless told). */
  async rehearse(name: string, timeScale: '0' | '0.01' | '0.1' | '1', pace: 'paced' | 'automatic' = 'paced'): Promise<void> {
    await this.rowNamed(name).click();
    await this.tab('rehearse').click();
    await this.timeScale.selectOption(timeScale);
    await this.pace.selectOption(pace);
    await this.start.click();
    await expect(this.run).toBeVisible();
  }

  /** Waits for a checklist to ask, then answers it from the keyboard, as an operator would. */
  async confirmWithEnter(): Promise<void> {
    await expect(this.confirmation).toBeVisible({ timeout: 30_000 });
    await expect(this.confirm).toBeFocused();
    await this.page.keyboard.press('Enter');
  }
}
