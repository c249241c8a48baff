import { describe, expect, it } from 'vitest';
import { validateDsl } from '../../../../main/engine/dsl/graph.js';
import { RewindError } from '../../../../main/engine/errors.js';

/** The refusal validateDsl gives a one-node DSL (plus a task `t` to read outputs of). */
function refusal(node: Record<string, unknown>): RewindError {
  try {
    validateDsl({ nodes: [{ id: 't', type: 'task', next: [] }, { next: [], ...node }] });
  } catch (err) {
    if (err instanceof RewindError) return err;
    throw err;
  }
  throw new Error('validateDsl accepted a node it should refuse');
}

function expectRefused(node: Record<string, unknown>, path: string, message: RegExp): void {
  const err = refusal(node);
  expect(err.code).toBe('INVALID_DSL');
  expect(err.details).toEqual({ node_id: node.id, path: `nodes.1.${path}` });
  expect(err.message).toContain(`Node '${String(node.id)}'`);
  expect(err.message).toMatch(message);
}

const http = (params: Record<string, unknown>) => ({ id: 'call', type: 'http', params: { method: 'GET', url: 'https://svc.example/x', ...params } });
const command = (params: Record<string, unknown>) => ({ id: 'run', type: 'command', params: { argv: ['make'], ...params } });

describe('real node params', () => {
  it('accepts each type with its documented params and applies the defaults', () => {
    const dsl = validateDsl({
      nodes: [
        { id: 'call', type: 'http', params: { method: 'POST', url: 'http://127.0.0.1:8/i/{{ctx.batch}}', headers: { Authorization: 'Bearer {{secret.API_TOKEN}}' }, body: { rows: '{{ctx.outputs.run.rows}}' } }, next: ['run'] },
        { id: 'run', type: 'command', params: { argv: ['train', '--batch', '{{ctx.batch}}'], env: { TOKEN: '{{secret.TRAIN_KEY}}' } }, next: ['pause'] },
        { id: 'pause', type: 'wait', params: { duration_ms: 1000 }, next: ['gate'] },
        { id: 'gate', type: 'approval', params: { prompt: 'Ship it?', timeout_ms: 3_600_000 }, next: [] },
      ],
    });
    expect(dsl.nodes.map((n) => n.type)).toEqual(['http', 'command', 'wait', 'approval']);
  });

  it('refuses an unknown param, with its path', () => {
    expectRefused(http({ retry: 3 }), 'params', /retry/);
    expectRefused(command({ shell: 'make all' }), 'params', /shell/);
    expectRefused({ id: 'gate', type: 'approval', params: { timeout: 5 } }, 'params', /timeout/);
  });

  it('refuses an argv that is not an array (a shell string)', () => {
    expectRefused(command({ argv: 'make all && deploy' }), 'params.argv', /field params\.argv/);
    expectRefused(command({ argv: [] }), 'params.argv', /at least the program/);
  });

  it('refuses a url that is not http(s)', () => {
    expectRefused(http({ url: 'file:///etc/passwd' }), 'params.url', /http:\/\/ or https:\/\//);
    expectRefused(http({ url: 'ftp://svc.example' }), 'params.url', /http:\/\/ or https:\/\//);
  });

  it('refuses a timeout of 0 or less, or above a day', () => {
    expectRefused(http({ timeout_ms: 0 }), 'params.timeout_ms', /above 0/);
    expectRefused(command({ timeout_ms: -5 }), 'params.timeout_ms', /above 0/);
    expectRefused(command({ timeout_ms: 86_400_001 }), 'params.timeout_ms', /at most a day/);
    expectRefused({ id: 'gate', type: 'approval', params: { timeout_ms: 0 } }, 'params.timeout_ms', /above 0/);
    expectRefused({ id: 'w', type: 'wait', params: { duration_ms: 2 * 86_400_000 } }, 'params.duration_ms', /at most a day/);
  });

  it('refuses an invalid secret name, with the param path where it is', () => {
    expectRefused(http({ headers: { Authorization: 'Bearer {{secret.api-token}}' } }), 'params.headers.Authorization', /'api-token' is not a valid secret name/);
    expectRefused(command({ env: { K: '{{secret.}}' } }), 'params.env.K', /not a valid secret name/);
  });

  it('refuses a ctx path that cannot exist, or a template that is neither ctx nor secret', () => {
    expectRefused(http({ url: 'https://svc.example/{{ctx.}}' }), 'params.url', /context path is empty/);
    expectRefused(command({ argv: ['x', '{{ctx.a..b}}'] }), 'params.argv.1', /invalid segment/);
    expectRefused(http({ body: { p: ['{{ctx.__proto__.x}}'] } }), 'params.body.p.0', /reserved segment '__proto__'/);
    expectRefused(http({ body: '{{ctx.outputs.nope.rows}}' }), 'params.body', /output of 'nope', which is no node of this DSL/);
    expectRefused(command({ cwd: '{{env.HOME}}' }), 'params.cwd', /not a template: use \{\{ctx\.PATH\}\} or \{\{secret\.NAME\}\}/);
  });
});
