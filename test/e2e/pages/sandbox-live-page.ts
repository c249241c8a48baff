import type { Locator, Page } from '@playwright/test';

/** Locators of the sandbox's "Live execution and secrets…" panel and of the run inspector's replay; specs hold the assertions. */
export class SandboxLivePanel {
  constructor(readonly page: Page) {}

  get dialog(): Locator {
    return this.page.getByTestId('sandbox-live-dialog');
  }
  get liveToggle(): Locator {
    return this.page.getByTestId('sandbox-live-toggle');
  }
  get commandsToggle(): Locator {
    return this.page.getByTestId('sandbox-commands-toggle');
  }
  get apply(): Locator {
    return this.page.getByTestId('sandbox-live-apply');
  }
  get secretName(): Locator {
    return this.page.getByTestId('sandbox-secret-name');
  }
  get secretValue(): Locator {
    return this.page.getByTestId('sandbox-secret-value');
  }
  get saveSecret(): Locator {
    return this.page.getByTestId('sandbox-secret-save');
  }
  get secrets(): Locator {
    return this.page.getByTestId('sandbox-secrets');
  }
  secret(name: string): Locator {
    return this.page.getByTestId(`sandbox-secret-${name}`);
  }
  deleteSecret(name: string): Locator {
    return this.page.getByTestId(`sandbox-secret-delete-${name}`);
  }
  confirmDelete(name: string): Locator {
    return this.page.getByTestId(`sandbox-secret-confirm-${name}`);
  }
  get error(): Locator {
    return this.page.getByTestId('sandbox-live-error');
  }

  get connectionMenu(): Locator {
    return this.page.getByTestId('connection-menu');
  }
  get connectionMenuItem(): Locator {
    return this.page.getByTestId('connection-menu-sandboxLive');
  }
  get paletteInput(): Locator {
    return this.page.getByTestId('palette-input');
  }
  get paletteItems(): Locator {
    return this.page.getByTestId('palette-item');
  }

  get replayVersion(): Locator {
    return this.page.getByTestId('replay-version');
  }
  get replaySubmit(): Locator {
    return this.page.getByTestId('replay-submit');
  }
  get replayResult(): Locator {
    return this.page.getByTestId('replay-result');
  }
  get replayOutcomes(): Locator {
    return this.page.getByTestId('replay-outcome');
  }
}
