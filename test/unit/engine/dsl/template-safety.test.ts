import { describe, expect, it } from 'vitest';
import { validateDsl } from '../../../../main/engine/dsl/graph.js';
import { RewindError } from '../../../../main/engine/errors.js';
import { codeRunner, programName } from '../../../../main/engine/executor/template-safety.js';
import { renderUrl } from '../../../../main/engine/executor/templating.js';
import { staticSecrets } from '../../../../main/engine/executor/secrets.js';

/*
 * Templates are data, never code: what validateDsl refuses (UNSAFE_TEMPLATE, naming the node, the
 * param and the remedy) and what it keeps allowing; and how an http node's URL takes run values.
 */

function draft(node: Record<string, unknown>): RewindError | null {
  try {
    validateDsl({ defaults: { x: 'a', order_id: 'o-1', host: 'h' }, nodes: [{ id: 't', type: 'task', next: [] }, { next: [], ...node }] });
    return null;
  } catch (err) {
    if (err instanceof RewindError) return err;
    throw err;
  }
}

const command = (params: Record<string, unknown>) => ({ id: 'job', type: 'command', params });
const http = (url: string, extra: Record<string, unknown> = {}) => ({ id: 'call', type: 'http', params: { method: 'GET', url, ...extra } });

function expectUnsafe(node: Record<string, unknown>, param: string, message: RegExp): RewindError {
  const err = draft(node);
  expect(err, `${JSON.stringify(node.params)} should be refused`).not.toBeNull();
  expect(err!.code).toBe('UNSAFE_TEMPLATE');
  expect(err!.details).toMatchObject({ node_id: node.id, param, path: `nodes.1.params.${param}` });
  expect(err!.message).toContain(`Node '${String(node.id)}'`);
  expect(err!.message).toMatch(message);
  return err!;
}

describe('UNSAFE_TEMPLATE at draft: command nodes', () => {
  it("refuses the issue's attack: a template inside sh -c, naming node, argv index and the env remedy", () => {
    const err = expectUnsafe(command({ argv: ['sh', '-c', 'echo {"out":"{{ctx.x}}"}'] }), 'argv.2', /argv\.2 of 'sh' holds the template \{\{ctx\.x\}\}: a shell runs its arguments/);
    expect(err.hint).toContain('env: {X: "{{ctx.x}}"}');
    expect(err.hint).toContain('"$X"');
    expect(err.details).toMatchObject({ template: '{{ctx.x}}' });
  });

  it('refuses a template anywhere in the argv of a shell, an interpreter or a wrapper — a whole element too', () => {
    const cases: Array<[string[], string]> = [
      [['bash', '-c', 'deploy {{ctx.order_id}}'], 'argv.2'],
      [['/bin/zsh', '-c', '{{ctx.x}}'], 'argv.2'],
      [['dash', 'script.sh', '{{ctx.x}}'], 'argv.2'],
      [['ksh', '-c', 'x'], ''],
      [['fish', '-c', 'echo {{ctx.x}}'], 'argv.2'],
      [['cmd.exe', '/c', 'echo {{ctx.x}}'], 'argv.2'],
      [['C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe', '-Command', '{{ctx.x}}'], 'argv.2'],
      [['pwsh', '-c', 'Write-Output {{ctx.x}}'], 'argv.2'],
      [['python', '-c', 'print("{{ctx.x}}")'], 'argv.2'],
      [['/usr/bin/python3.12', 'train.py', '--order', '{{ctx.order_id}}'], 'argv.3'],
      [['node', '-e', 'console.log({{ctx.x}})'], 'argv.2'],
      [['perl', '-e', 'print "{{ctx.x}}"'], 'argv.2'],
      [['ruby', '-e', 'puts "{{ctx.x}}"'], 'argv.2'],
      [['awk', '{print "{{ctx.x}}"}'], 'argv.1'],
      [['make', 'deploy', 'ORDER={{ctx.order_id}}'], 'argv.2'],
      [['env', 'ORDER={{ctx.order_id}}', 'deploy'], 'argv.1'],
      [['/usr/bin/env', 'bash', '-c', '{{ctx.x}}'], 'argv.3'],
      [['xargs', '-I{}', 'sh', '-c', 'echo {} {{ctx.x}}'], 'argv.4'],
      [['ssh', 'deploy@db1', 'restart {{ctx.x}}'], 'argv.2'],
      [['sudo', '-u', 'app', 'deploy', '{{ctx.x}}'], 'argv.4'],
      [['timeout', '30', 'sh', '-c', '{{ctx.x}}'], 'argv.4'],
      [['bash', '-c', 'curl -H "Authorization: {{secret.API_TOKEN}}" x'], 'argv.2'],
    ];
    for (const [argv, param] of cases) {
      if (param === '') expect(draft(command({ argv }))).toBeNull();
      else expectUnsafe(command({ argv }), param, /holds the template/);
    }
  });

  it('refuses a templated program, a templated cwd and a templated code-loading environment variable', () => {
    expectUnsafe(command({ argv: ['{{ctx.x}}', '--run'] }), 'argv.0', /the program itself/);
    expectUnsafe(command({ argv: ['./deploy.sh'], cwd: '/srv/{{ctx.x}}' }), 'cwd', /working folder/);
    for (const name of ['PATH', 'LD_PRELOAD', 'NODE_OPTIONS', 'BASH_ENV', 'PYTHONPATH', 'PERL5OPT', 'GIT_SSH_COMMAND', 'DYLD_INSERT_LIBRARIES']) {
      expectUnsafe(command({ argv: ['deploy'], env: { [name]: '{{ctx.x}}' } }), `env.${name}`, new RegExp(`${name} makes a program`));
    }
  });

  it('allows run values in env (the remedy), and as whole or partial elements of a plain program’s argv', () => {
    expect(draft(command({ argv: ['sh', '-c', 'printf "%s\\n" "$ORDER"'], env: { ORDER: '{{ctx.order_id}}', TOKEN: '{{secret.API_TOKEN}}' } }))).toBeNull();
    expect(draft(command({ argv: ['python', '-c', 'import os; print(os.environ["X"])'], env: { X: '{{ctx.x}}' } }))).toBeNull();
    expect(draft(command({ argv: ['/opt/jobs/train.py', '--order', '{{ctx.order_id}}', '--label=batch {{ctx.x}}'] }))).toBeNull();
    expect(draft(command({ argv: ['curl', '-fsS', 'https://svc.example/orders/{{ctx.order_id}}'] }))).toBeNull();
    expect(draft(command({ argv: ['deploy'], cwd: '/srv/app', env: { HOST_NAME: '{{ctx.host}}' } }))).toBeNull();
  });

  it('names programs as the runner lists know them', () => {
    expect(programName('/usr/bin/python3.12')).toBe('python');
    expect(programName('PowerShell.EXE')).toBe('powershell');
    expect(programName('node18')).toBe('node');
    expect(codeRunner('/usr/local/bin/perl5.36')).toBe('interpreter');
    expect(codeRunner('bash')).toBe('shell');
    expect(codeRunner('xargs')).toBe('wrapper');
    expect(codeRunner('./train.py')).toBeNull();
    expect(codeRunner('curl')).toBeNull();
  });
});

describe('UNSAFE_TEMPLATE at draft: http nodes', () => {
  it('refuses a run value in the scheme, host, port or userinfo of the URL, and in a Host header', () => {
    expectUnsafe(http('{{ctx.x}}://svc.example/a'), 'url', /scheme/);
    expectUnsafe(http('http://{{ctx.host}}/inspect'), 'url', /host, port or userinfo holds the template \{\{ctx\.host\}\}/);
    expectUnsafe(http('https://svc-{{ctx.x}}.example/a'), 'url', /host/);
    expectUnsafe(http('https://svc.example:{{ctx.x}}/a'), 'url', /port/);
    expectUnsafe(http('https://{{ctx.x}}@svc.example/a'), 'url', /userinfo/);
    expectUnsafe(http('https://{{ctx.outputs.t.host}}/a'), 'url', /host/);
    expectUnsafe(http('https://svc.example/a', { headers: { Host: '{{ctx.host}}' } }), 'headers.Host', /Host header/);
  });

  it("allows the server's own address, secrets in the authority, and run values in the path and query", () => {
    expect(draft(http('http://{{ctx.server.host}}/demo/inspect?batch={{ctx.x}}'))).toBeNull();
    expect(draft(http('https://{{secret.API_HOST}}/v1/orders/{{ctx.order_id}}'))).toBeNull();
    expect(draft(http('https://bot:{{secret.API_TOKEN}}@svc.example/a'))).toBeNull();
    expect(draft(http('https://svc.example/orders/{{ctx.order_id}}?q={{ctx.x}}#{{ctx.x}}'))).toBeNull();
  });
});

describe('renderUrl: run values in the path and query are percent-encoded', () => {
  const secrets = staticSecrets({ API_HOST: 'api.example:8443', KEY: 'k&v' });
  const context = { id: '7/../../admin?x=1#f', dots: '..', q: 'a&b=c d', server: { host: '127.0.0.1:9000' } };

  it('cannot add a path segment, a query parameter or a fragment', () => {
    expect(renderUrl('https://svc.example/orders/{{ctx.id}}?q={{ctx.q}}', context, secrets)).toBe('https://svc.example/orders/7%2F..%2F..%2Fadmin%3Fx%3D1%23f?q=a%26b%3Dc%20d');
    expect(new URL(renderUrl('https://svc.example/orders/{{ctx.id}}', context, secrets)).pathname).toBe('/orders/7%2F..%2F..%2Fadmin%3Fx%3D1%23f');
  });

  it('refuses a value that would be a whole . or .. segment, which a URL parser climbs even encoded', () => {
    expect(() => renderUrl('https://svc.example/a/{{ctx.dots}}/b', context, secrets)).toThrow(/would climb the URL's path/);
    expect(renderUrl('https://svc.example/a/v{{ctx.dots}}?d={{ctx.dots}}', context, secrets)).toBe('https://svc.example/a/v..?d=..');
  });

  it("writes the server's address and secrets in the authority as they are", () => {
    expect(renderUrl('http://{{ctx.server.host}}/x/{{ctx.q}}', context, secrets)).toBe('http://127.0.0.1:9000/x/a%26b%3Dc%20d');
    expect(renderUrl('https://{{secret.API_HOST}}/x?k={{secret.KEY}}', context, secrets)).toBe('https://api.example:8443/x?k=k&v');
  });
});
