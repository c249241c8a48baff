import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RewindError } from '../../../main/engine/errors.js';
import { levelTargetMs } from '../../../main/engine/runbooks/format.js';
import { loadSampleRunbooks } from '../../../main/engine/runbooks/samples.js';
import { exportRunbook, parseRunbook } from '../../../main/engine/runbooks/format.js';

const good = `
name: Roll back the ML pipeline
description: From the paper procedure
level: application
steps:
  - kind: checklist
    title: Before
    expected_ms: 60000
    items: [Record the version, Tell the team]
  - kind: action
    title: Roll back
    expected_ms: 30000
    action: { type: rollback, workflow: ml-training-pipeline, to: previous }
  - kind: action
    title: Resume
    expected_ms: 30000
    action: { type: resume_run, workflow: ml-training-pipeline, run: latest_failed, version: 3 }
  - kind: action
    title: Start
    expected_ms: 30000
    action: { type: start_run, workflow: defect-rate-judgment, params: { defect_rate: 0.02 } }
  - kind: health_check
    title: Health endpoint
    expected_ms: 2000
    check: { type: http, url: 'http://127.0.0.1:8000/health', expect_status: 200, field: status, equals: ok }
  - kind: health_check
    title: 5xx below 5 %
    expected_ms: 2000
    check: { type: metrics, url: 'http://127.0.0.1:8000/metrics', metric: 5xx_rate, below: 0.05 }
  - kind: wait
    title: Drain
    expected_ms: 300000
    ms: 300000
  - kind: wait
    title: Until healthy
    expected_ms: 120000
    until: { type: workflow_failure_rate, workflow: ml-training-pipeline, window: 5, below: 0.2 }
    timeout_ms: 120000
  - kind: note
    title: After
    expected_ms: 0
    text: Write the report.
`;

/** A runbook with one step replaced (YAML flow mapping), for the bad cases. */
const withStep = (step: string) => `name: x\ndescription: d\nsteps:\n  - { kind: note, title: First, expected_ms: 1, text: t }\n  - ${step}\n`;

function refusal(text: string, format: 'yaml' | 'json' = 'yaml'): RewindError {
  try {
    parseRunbook(text, format);
  } catch (err) {
    expect(err).toBeInstanceOf(RewindError);
    expect((err as RewindError).code).toBe('INVALID_RUNBOOK');
    expect((err as RewindError).hint).not.toBe('');
    return err as RewindError;
  }
  throw new Error('expected the runbook to be refused');
}

describe('parseRunbook', () => {
  it('parses a runbook using every step kind, action and check', () => {
    const rb = parseRunbook(good, 'yaml');
    expect(rb.steps.map((s) => s.kind)).toEqual(['checklist', 'action', 'action', 'action', 'health_check', 'health_check', 'wait', 'wait', 'note']);
    expect(rb.steps[1]).toEqual({ kind: 'action', title: 'Roll back', expected_ms: 30000, action: { type: 'rollback', workflow: 'ml-training-pipeline', to: 'previous' } });
    expect(rb.steps[4]).toMatchObject({ check: { type: 'http', field: 'status', equals: 'ok' } });
  });

  it('round-trips through YAML and JSON export', () => {
    const rb = parseRunbook(good, 'yaml');
    expect(parseRunbook(exportRunbook(rb, 'yaml'), 'yaml')).toEqual(rb);
    expect(parseRunbook(exportRunbook(rb, 'json'), 'json')).toEqual(rb);
    expect(JSON.parse(exportRunbook(rb, 'json'))).toEqual(rb);
  });

  it("parses every shipped sample, each planned within its level's seed 003 recovery target", () => {
    const samples = loadSampleRunbooks(join(import.meta.dirname, '../../../assets/runbooks'));
    expect(samples).toHaveLength(5);
    for (const { file, runbook } of samples) {
      const planned = runbook.steps.reduce((a, s) => a + s.expected_ms, 0);
      const target = levelTargetMs[runbook.level!];
      expect(planned, file).toBeGreaterThanOrEqual(target.min);
      expect(planned, file).toBeLessThanOrEqual(target.max ?? Infinity);
    }
  });

  const bad: Array<[string, string]> = [
    [withStep("{ kind: action, title: 'Roll back', expected_ms: 5, action: { type: rollback, workflow: w, to: latest } }"), "Step 2 ('Roll back'): action.to: expected a version number or 'previous'"],
    [withStep('{ kind: action, title: Roll back, expected_ms: 5, action: { type: rollback, workflow: w } }'), 'Step 2 (\'Roll back\'): action.to: required'],
    [withStep('{ kind: action, title: Boom, expected_ms: 5, action: { type: explode, workflow: w } }'), "Step 2 ('Boom'): action.type: expected type to be one of rollback, pause, unpause, start_run, resume_run"],
    [withStep('{ kind: action, title: Resume, expected_ms: 5, action: { type: resume_run, workflow: w, run: newest } }'), "Step 2 ('Resume'): action.run: expected 'latest_failed'"],
    [withStep('{ kind: action, title: Back, expected_ms: 5, action: { type: rollback, workflow: w, to: 2.5 } }'), "Step 2 ('Back'): action.to: expected a version number or 'previous'"],
    [withStep('{ kind: action, title: Resume, expected_ms: 5, action: { type: resume_run, workflow: w, run: latest_failed, version: newest } }'), "Step 2 ('Resume'): action.version: expected a version number or 'active'"],
    [withStep("{ kind: action, title: Pause, expected_ms: 5, action: { type: pause, workflow: '' } }"), "Step 2 ('Pause'): action.workflow: expected a workflow name"],
    [withStep('{ kind: teleport, title: Beam, expected_ms: 5 }'), "Step 2 ('Beam'): kind: expected kind to be one of checklist, action, health_check, wait, note"],
    [withStep('{ kind: note, title: Note, text: t }'), "Step 2 ('Note'): expected_ms: required"],
    [withStep("{ kind: note, title: Note, expected_ms: '5 min', text: t }"), "Step 2 ('Note'): expected_ms: expected a duration in milliseconds"],
    [withStep('{ kind: note, title: Note, expected_ms: -5, text: t }'), "Step 2 ('Note'): expected_ms: expected a duration in milliseconds"],
    [withStep('{ kind: note, title: Note, expected_ms: 5, text: t, colour: red }'), "Step 2 ('Note'): colour: unknown field"],
    [withStep('{ kind: note, expected_ms: 5, text: t }'), "Step 2 ('untitled'): title: required"],
    [withStep('{ kind: checklist, title: Check, expected_ms: 5, items: [] }'), "Step 2 ('Check'): items: expected at least one item"],
    [withStep('{ kind: wait, title: Wait, expected_ms: 5 }'), "Step 2 ('Wait'): ms: give either ms or until (with timeout_ms), not both or neither"],
    [withStep('{ kind: wait, title: Wait, expected_ms: 5, until: { type: run_succeeds, workflow: w } }'), "Step 2 ('Wait'): timeout_ms: required with until"],
    [withStep('{ kind: health_check, title: Probe, expected_ms: 5, check: { type: http, url: "ftp://x/health", expect_status: 200 } }'), "Step 2 ('Probe'): check.url: expected an http(s) URL"],
    [withStep('{ kind: health_check, title: Probe, expected_ms: 5, check: { type: http, url: "http://x/health", expect_status: 999 } }'), "Step 2 ('Probe'): check.expect_status: expected an HTTP status code"],
    [withStep('{ kind: health_check, title: Probe, expected_ms: 5, check: { type: http, url: "http://x/health", expect_status: 200, field: "a..b" } }'), "Step 2 ('Probe'): check.field: expected a dot path such as status or checks.db"],
    [withStep('{ kind: health_check, title: Rate, expected_ms: 5, check: { type: workflow_failure_rate, workflow: w, window: 5, below: 20 } }'), "Step 2 ('Rate'): check.below: expected a fraction between 0 and 1"],
    [withStep('{ kind: health_check, title: Rate, expected_ms: 5, check: { type: workflow_failure_rate, workflow: w, window: 0, below: 0.2 } }'), "Step 2 ('Rate'): check.window: expected at least 1 run"],
    [withStep('{ kind: health_check, title: Metric, expected_ms: 5, check: { type: metrics, url: "http://x/metrics", metric: cpu, below: 0.9 } }'), "Step 2 ('Metric'): check.metric: expected one of 5xx_rate, failure_rate, p95_latency_ms"],
    [withStep('{ kind: health_check, title: Odd, expected_ms: 5, check: { type: ping } }'), "Step 2 ('Odd'): check.type: expected type to be one of workflow_failure_rate, run_succeeds, http, metrics"],
    ['description: d\nsteps:\n  - { kind: note, title: A, expected_ms: 1, text: t }\n', 'Runbook: name: required'],
    ['name: x\ndescription: d\nsteps: []\n', 'Runbook: steps: expected at least one step'],
    ['name: x\ndescription: d\nlevel: cosmic\nsteps:\n  - { kind: note, title: A, expected_ms: 1, text: t }\n', 'Runbook: level: expected one of application, configuration, database, full-system'],
    ['name: x\ndescription: d\nowner: me\nsteps:\n  - { kind: note, title: A, expected_ms: 1, text: t }\n', 'Runbook: owner: unknown field'],
    ['- just\n- a list\n', 'Runbook: expected a runbook: an object with name, description and steps'],
  ];
  for (const [text, message] of bad) {
    it(`refuses: ${message}`, () => {
      expect(refusal(text).message).toBe(message);
    });
  }

  it('names the step in JSON too', () => {
    const json = JSON.stringify({ name: 'x', description: 'd', steps: [{ kind: 'action', title: 'Roll back', expected_ms: 1, action: { type: 'rollback', workflow: 'w', to: 0 } }] });
    const err = refusal(json, 'json');
    expect(err.message).toBe("Step 1 ('Roll back'): action.to: expected a version number or 'previous'");
    expect(err.details).toEqual({ path: 'steps.0.action.to' });
  });

  it('refuses text that is not YAML or JSON, saying so', () => {
    expect(refusal('name: [unclosed\n').message).toMatch(/^The runbook is not valid YAML: /);
    expect(refusal('{"name": ', 'json').message).toMatch(/^The runbook is not valid JSON: /);
  });
});
