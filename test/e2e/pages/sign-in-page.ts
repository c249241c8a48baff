import { expect, type Locator, type Page } from '@playwright/test';

/** The sign-in's locators: the console's SSO controls and the identity provider's own pages. */
export class SignInPage {
  constructor(readonly page: Page) {}

  get ssoOffer(): Locator {
    return this.page.getByTestId('add-connection-sso-offer');
  }
  get ssoButton(): Locator {
    return this.page.getByTestId('add-connection-sso');
  }
  get identity(): Locator {
    return this.page.getByTestId('connection-identity');
  }
  get connectionDetail(): Locator {
    return this.page.getByTestId('connection-detail');
  }
  get signInAgain(): Locator {
    return this.page.getByTestId('sign-in-again');
  }
  menuItem(id: 'signIn' | 'signOut' | 'token'): Locator {
    return this.page.getByTestId(`connection-menu-${id}`);
  }

  /** Starts adding a server; stops where the console offers SSO. */
  async startAdding(options: { name: string; url: string; environment?: 'staging' | 'production' }): Promise<void> {
    await this.page.getByTestId('connection-add').click();
    await this.page.getByTestId('add-connection-name').fill(options.name);
    await this.page.getByTestId('add-connection-url').fill(options.url);
    await this.page.getByTestId('add-connection-env').selectOption(options.environment ?? 'staging');
  }

  /** The provider's own login page (oidc-provider's: any password), then its consent page. */
  async signInAtProvider(issuer: string, login: string): Promise<void> {
    await expect(this.page).toHaveURL(new RegExp(`^${issuer.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/interaction/`));
    await this.page.locator('input[name="login"]').fill(login);
    await this.page.locator('input[name="password"]').fill('correct horse battery staple');
    await this.page.getByRole('button', { name: 'Sign-in' }).click();
    await this.page.getByRole('button', { name: 'Continue' }).click();
  }

  async openConnectionMenu(): Promise<void> {
    await this.page.getByTestId('connection-menu').click();
  }
}
