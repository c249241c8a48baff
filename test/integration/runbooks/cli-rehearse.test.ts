import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { RehearsalSession, StoredRehearsal } from '../../../preload/contract/index.js';
import { repoRoot, startServer } from '../server/harness.js';

/* The runbook verbs of the `rewind` bin, end to end, as a script (stdin not a terminal) runs them. */

const LEVEL_1 = 'Level 1 — application rollback (ml-training-pipeline)';
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

/** A home of its own: the default sandbox there is new, so the CLI seeds the demo (and its sample runbooks). */
function freshHome(): string {
  const home = mkdtempSync(join(tmpdir(), 'rewind-cli-runbooks-'));
  cleanups.push(() => rmSync(home, { recursive: true, force: true }));
  return home;
}

function rewind(home: string, args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const proc = spawn(process.execPath, ['bin/rewind.mjs', ...args], {
    cwd: repoRoot,
    env: { ...process.env, HOME: home, XDG_DATA_HOME: home, APPDATA: home, REWIND_SERVER: '', REWIND_SANDBOX: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  proc.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  proc.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const timer = setTimeout(() => proc.kill('SIGKILL'), 30_000);
  return new Promise((resolve) =>
    proc.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    }),
  );
}

describe('rewind rehearse (CLI)', () => {
  it('rehearses a sample under its scenario with --yes, printing each step with its timer, then lists and reports it', async () => {
    const home = freshHome();
    const listed = await rewind(home, ['runbooks']);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toContain(LEVEL_1);

    const run = await rewind(home, ['rehearse', LEVEL_1, '--scenario', 'ml-registry-outage', '--yes']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`Rehearsing "${LEVEL_1}" (6 steps, scenario ml-registry-outage) on the sandbox.`);
    expect(run.stdout).toMatch(/\[ *\d+(\.\d)? m?s\] Scenario ml-registry-outage: ml-training-pipeline: 3 of the last 3 runs on v4 failed/);
    expect(run.stdout).toMatch(/\[ *\d+(\.\d)? m?s\] ▶ 2\/6 Roll back to the previous version \(planned 30\.0 s\)\n\[ *\d+(\.\d)? m?s\] {3}✓ passed in \d+ ms \(planned 30\.0 s\): ml-training-pipeline: v4 → v3/);
    expect(run.stdout).toContain('      [ ] Open the monitoring dashboard\n    All done? yes (--yes)');
    expect(run.stdout).toMatch(/Recovered in \d+ ms\.\nKept as rehearsal (\S+);/);
    const id = /Kept as rehearsal (\S+);/.exec(run.stdout)![1]!;

    const history = await rewind(home, ['--json', 'rehearsals', LEVEL_1]);
    // The CLI runs as CI does: automatic, and the record says so.
    expect((JSON.parse(history.stdout) as { rehearsals: StoredRehearsal[] }).rehearsals).toMatchObject([{ id, passed: true, scenario: 'ml-registry-outage', pace: 'automatic' }]);
    const human = await rewind(home, ['rehearsals', LEVEL_1]);
    expect(human.stdout).toMatch(/^STARTED +RESULT +TIME TO RECOVER +PACE +SCENARIO +BY +ID\n.* recovered +\d+ ms +automatic \(CI\) +ml-registry-outage /);
    const report = await rewind(home, ['report', id]);
    expect(report.code).toBe(0);
    expect(report.stdout.startsWith(`# Post-incident report: ${LEVEL_1}\n\n**Result: recovered**`)).toBe(true);
  });

  it('exits 1 when the rehearsal fails (rollback skipped), and 2 when nobody could confirm its checklists', async () => {
    const home = freshHome();
    const refused = await rewind(home, ['rehearse', LEVEL_1, '--scenario', 'ml-registry-outage']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/stdin is not a terminal\.\n {2}hint: .*--yes/);
    expect(refused.stdout).toBe('');

    const failed = await rewind(home, ['--json', 'rehearse', LEVEL_1, '--scenario', 'ml-registry-outage', '--skip', '2', '--yes']);
    expect(failed.code).toBe(1);
    const session = JSON.parse(failed.stdout) as RehearsalSession;
    expect(session).toMatchObject({ state: 'finished', passed: false, rehearsal_id: expect.any(String) });
    expect(session.steps.map((s) => s.outcome)).toEqual(['passed', 'skipped', 'passed', 'failed', 'skipped', 'skipped']);

    expect((await rewind(home, ['rehearse', LEVEL_1, '--skip', 'two', '--yes'])).code).toBe(2);
  });

  it('exports and imports runbooks; a bad file is refused naming the step and the field', async () => {
    const home = freshHome();
    const exported = await rewind(home, ['runbook', 'export', LEVEL_1, '--format', 'json']);
    expect(exported.code).toBe(0);
    const renamed = { ...(JSON.parse(exported.stdout) as Record<string, unknown>), name: 'Level 1 copy' };
    const file = join(home, 'copy.json');
    writeFileSync(file, JSON.stringify(renamed));
    const imported = await rewind(home, ['runbook', 'import', file]);
    expect(imported.stdout).toMatch(/^Imported Level 1 copy \(\S+\): 6 steps\.$/m);
    expect((await rewind(home, ['runbook', 'export', 'Level 1 copy'])).stdout).toContain('name: Level 1 copy\n');

    const bad = join(home, 'bad.yaml');
    writeFileSync(bad, readFileSync(join(repoRoot, 'assets/runbooks/level-1-application.yaml'), 'utf8').replace('to: previous', 'to: yesterday'));
    const refused = await rewind(home, ['runbook', 'import', bad]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("error INVALID_RUNBOOK: Step 2 ('Roll back to the previous version'): action.to: expected a version number or 'previous'");
  });

  it('executes live on a server with --yes, as the token, and refuses a scenario there', async () => {
    const server = await startServer({ demo: true });
    cleanups.push(() => server.close());
    const home = freshHome();
    const env = { REWIND_TOKEN: server.tokens.operator };
    const scenario = await rewind(home, ['--server', server.url, 'rehearse', LEVEL_1, '--scenario', 'ml-registry-outage', '--yes'], env);
    expect(scenario.code).toBe(2);
    expect(scenario.stderr).toMatch(/runs only against a sandbox/);

    const live = await rewind(home, ['--server', server.url, 'rehearse', LEVEL_1, '--yes'], env);
    expect(live.code).toBe(0);
    expect(live.stdout).toContain(`Executing live "${LEVEL_1}" (6 steps) on ${server.url}.`);
    expect(live.stdout).toContain(`    Execute "Roll back to the previous version" on ${server.url} now? yes (--yes)`);
    const { rehearsals } = await server.backend.call('rehearsals:list', { runbook: LEVEL_1 });
    expect(rehearsals).toMatchObject([{ passed: true, created_by: 'operator', scenario: null }]);
  });
});
