import { expect, type Locator, type Page } from '@playwright/test';

/** Locators and steps of the Rewind console; specs hold the assertions. */
export class ConsolePage {
  constructor(readonly page: Page) {}

  async open(url: string): Promise<void> {
    await this.page.goto(url);
    await expect(this.connectionState).toHaveText('connected');
  }

  get connectionState(): Locator {
    return this.page.getByTestId('connection-state');
  }
  get connectionSelect(): Locator {
    return this.page.getByTestId('connection-select');
  }
  nav(view: 'home' | 'workflows' | 'runs' | 'audit'): Locator {
    return this.page.getByTestId(`nav-${view}`);
  }
  get connectionRole(): Locator {
    return this.page.getByTestId('connection-role');
  }

  get home(): Locator {
    return this.page.getByTestId('incident-home');
  }
  incident(workflowName: string): Locator {
    return this.page.locator(`[data-testid="incident-item"][data-workflow-name="${workflowName}"]`);
  }
  incidentAction(workflowName: string): Locator {
    return this.incident(workflowName).getByTestId('incident-action');
  }
  get homeRollbacks(): Locator {
    return this.page.getByTestId('home-rollback');
  }

  workflowRow(name: string): Locator {
    return this.page.locator(`[data-testid="workflow-row"][data-workflow-name="${name}"]`);
  }
  get workflowRows(): Locator {
    return this.page.getByTestId('workflow-row');
  }
  get workflowsWithFailures(): Locator {
    return this.workflowRows.filter({ has: this.page.getByTestId('workflow-failed-badge') });
  }
  get activeVersion(): Locator {
    return this.page.getByTestId('workflow-active-version');
  }
  get failedRunsButton(): Locator {
    return this.page.getByTestId('workflow-failed-runs');
  }

  get timeline(): Locator {
    return this.page.getByTestId('timeline');
  }
  timelineVersion(version: number): Locator {
    return this.page.locator(`[data-testid="timeline-version"][data-version="${version}"]`);
  }
  get timelineRollbacks(): Locator {
    return this.page.getByTestId('timeline-rollback');
  }
  rollbackFrom(version: number): Locator {
    return this.timelineVersion(version).getByTestId('timeline-rollback');
  }
  pick(version: number): Locator {
    return this.timelineVersion(version).getByTestId('timeline-pick');
  }
  get diffSummary(): Locator {
    return this.page.getByTestId('diff-summary');
  }

  get rollbackDialog(): Locator {
    return this.page.getByTestId('rollback-dialog');
  }
  get rollbackPreview(): Locator {
    return this.page.getByTestId('rollback-preview');
  }
  get rollbackConfirmName(): Locator {
    return this.page.getByTestId('rollback-confirm-name');
  }
  get rollbackConfirmVersion(): Locator {
    return this.page.getByTestId('rollback-confirm-version');
  }
  get rollbackSubmit(): Locator {
    return this.page.getByTestId('rollback-submit');
  }
  get rollbackResult(): Locator {
    return this.page.getByTestId('rollback-result');
  }
  get rollbackError(): Locator {
    return this.page.getByTestId('rollback-error');
  }
  get rollbackErrorHint(): Locator {
    return this.page.getByTestId('rollback-error-hint');
  }
  get rollbackReload(): Locator {
    return this.page.getByTestId('rollback-error-reload');
  }
  get rollbackDone(): Locator {
    return this.page.getByTestId('rollback-done');
  }

  get runRows(): Locator {
    return this.page.getByTestId('run-row');
  }
  runRow(runId: string): Locator {
    return this.page.locator(`[data-testid="run-row"][data-run-id="${runId}"]`);
  }
  get inspector(): Locator {
    return this.page.getByTestId('run-inspector');
  }
  get inspectorStatus(): Locator {
    return this.page.getByTestId('inspector-status');
  }
  get inspectorParent(): Locator {
    return this.page.getByTestId('inspector-parent');
  }
  get dagNodes(): Locator {
    return this.page.getByTestId('dag-node');
  }
  get checkpointRows(): Locator {
    return this.page.getByTestId('checkpoint-row');
  }
  get checkpointJson(): Locator {
    return this.page.getByTestId('checkpoint-json');
  }
  get resumeVersion(): Locator {
    return this.page.getByTestId('resume-version');
  }
  get resumeCompat(): Locator {
    return this.page.getByTestId('resume-compat');
  }
  get resumeSubmit(): Locator {
    return this.page.getByTestId('resume-submit');
  }

  get toasts(): Locator {
    return this.page.getByTestId('toast');
  }
  get auditRows(): Locator {
    return this.page.getByTestId('audit-row');
  }
  get auditList(): Locator {
    return this.page.getByTestId('audit-list');
  }
  get auditCount(): Locator {
    return this.page.getByTestId('audit-count');
  }
  get auditFilterType(): Locator {
    return this.page.getByTestId('audit-filter-type');
  }
  get auditFilterActor(): Locator {
    return this.page.getByTestId('audit-filter-actor');
  }
  auditRow(seq: number): Locator {
    return this.page.locator(`[data-testid="audit-row"][data-seq="${seq}"]`);
  }
  get chainStatus(): Locator {
    return this.page.getByTestId('chain-status');
  }

  async openWorkflow(name: string): Promise<void> {
    await this.workflowRow(name).click();
    await expect(this.page.getByTestId('workflow-title')).toHaveText(name);
  }

  /** Opens the rollback dialog from a timeline row, types the confirmation and submits. */
  async rollBack(workflow: string, version: number, production = false): Promise<void> {
    await this.rollbackFrom(version).click();
    await expect(this.rollbackPreview).toBeVisible();
    await this.rollbackConfirmName.fill(workflow);
    if (production) await this.rollbackConfirmVersion.fill(`v${version}`);
    await this.rollbackSubmit.click();
  }

  async addServer(options: { name: string; url: string; token: string; environment?: 'staging' | 'production' }): Promise<void> {
    await this.page.getByTestId('connection-add').click();
    await this.page.getByTestId('add-connection-name').fill(options.name);
    await this.page.getByTestId('add-connection-url').fill(options.url);
    await this.page.getByTestId('add-connection-env').selectOption(options.environment ?? 'staging');
    await this.page.getByTestId('add-connection-token').fill(options.token);
    await this.page.getByTestId('add-connection-submit').click();
    await expect(this.page.getByTestId('add-connection')).toBeHidden();
  }

  async screenshot(path: string): Promise<void> {
    await this.page.screenshot({ path, fullPage: false });
  }
}
