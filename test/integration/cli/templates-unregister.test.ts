import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot, tempDir } from '../server/harness.js';

/*
 * The compiled `rewind` on a sandbox file: templates, register --template, clone (paused), and
 * unregister; CODE workflows refused with CODE_MANAGED (exit 1, the error code printed).
 */

interface Outcome {
  code: number | null;
  stdout: string;
  stderr: string;
}

function rewind(db: string, args: string[]): Promise<Outcome> {
  const proc = spawn(process.execPath, [join(repoRoot, 'bin/rewind.mjs'), '--db', db, '--no-demo', ...args], {
    cwd: repoRoot,
    env: { ...process.env, REWIND_SERVER: '', REWIND_SANDBOX: '', REWIND_TOKEN: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  proc.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  proc.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  return new Promise((resolve) => proc.once('exit', (code) => resolve({ code, stdout, stderr })));
}

describe('rewind templates, register --template, clone, unregister', () => {
  const dir = tempDir('rewind-cli-templates-');
  const db = join(dir, 'sandbox.db');
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('lists the templates and shows one with its parameters and the command to use it', async () => {
    const list = await rewind(db, ['templates']);
    expect(list.code, list.stderr).toBe(0);
    for (const name of ['etl-pipeline', 'ml-training-pipeline', 'defect-rate-judgment']) expect(list.stdout).toContain(name);
    const show = await rewind(db, ['templates', 'show', 'etl-pipeline']);
    expect(show.code, show.stderr).toBe(0);
    expect(show.stdout).toMatch(/source_table\s+string\s+yes/);
    expect(show.stdout).toMatch(/min_rows\s+integer\s+1/);
    expect(show.stdout).toContain('rewind register --template etl-pipeline --name NAME --param source_table=… --param target_table=…');
  });

  it('registers from a template with typed --param values, refuses bad ones naming each, and runs it', async () => {
    const bad = await rewind(db, ['register', '--template', 'etl-pipeline', '--name', 'bad', '--param', 'min_rows=lots', '--param', 'colour=red']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('error INVALID_TEMPLATE_PARAMS');
    expect(bad.stderr).toContain('colour is not a parameter of this template');
    expect(bad.stderr).toContain('source_table is required');
    expect(bad.stderr).toContain('min_rows must be a whole number, got the string "lots"');

    // "007" stays a string for a string parameter; 5 is an integer for min_rows.
    const ok = await rewind(db, ['--json', 'register', '--template', 'etl-pipeline', '--name', 'orders', '--param', 'source_table=007', '--param', 'target_table=wh.orders', '--param', 'min_rows=5']);
    expect(ok.code, ok.stderr).toBe(0);
    const wf = JSON.parse(ok.stdout) as { id: string; template: unknown };
    expect(wf.template).toEqual({ name: 'etl-pipeline', version: 1 });
    const v1 = JSON.parse((await rewind(db, ['--json', 'version', 'orders', '1'])).stdout) as { dsl_definition: { defaults: Record<string, unknown> } };
    expect(v1.dsl_definition.defaults).toMatchObject({ source: '007', target: 'wh.orders' });
    const run = await rewind(db, ['--json', 'run', 'orders']);
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ status: 'succeeded' });
  });

  it('clones into a paused copy, unregisters it, and refuses CODE registration with CODE_MANAGED', async () => {
    const clone = await rewind(db, ['clone', 'orders', '--name', 'orders-eu']);
    expect(clone.code, clone.stderr).toBe(0);
    expect(clone.stdout).toMatch(/Cloned into orders-eu .* it starts paused/);
    const gone = await rewind(db, ['unregister', 'orders-eu']);
    expect(gone.code, gone.stderr).toBe(0);
    expect(gone.stdout).toContain('Unregistered orders-eu');
    const list = await rewind(db, ['workflows']);
    expect(list.stdout).toContain('orders');
    expect(list.stdout).not.toContain('orders-eu');
    const again = await rewind(db, ['unregister', 'orders-eu']);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('error WORKFLOW_NOT_FOUND');

    const code = await rewind(db, ['register', '--name', 'from-cli', '--code']);
    expect(code.code).toBe(1);
    expect(code.stderr).toContain('error CODE_MANAGED');
    expect(code.stderr).toMatch(/hint: .*code folder/);
  });
});
