import { TEMPLATE, type TemplateRef, templateRefs, urlAuthorityEnd } from './templating.js';

/*
 * Templates are data, never code. An operator starts runs with params; an admin wrote the DSL. A
 * `{{ctx.*}}` value is the operator's, so it may fill a value a program reads as data, never text a
 * program runs as code or the address a request goes to:
 *
 * - command: no template in `argv` when the program runs its arguments as code or as another command
 *   (a shell, an interpreter, a wrapper: the lists below) — not even a whole element, since
 *   `python -c {{ctx.code}}` or `env {{ctx.prog}}` is code too. No template in the program itself
 *   (argv[0]) or in `cwd` (which decides what a relative program or script path runs). No template
 *   in an environment variable that makes a program load code (PATH, LD_PRELOAD, NODE_OPTIONS…).
 *   Elsewhere a template is one argv element or part of one: exec passes it as that one argument, it
 *   cannot split into more. The remedy is `env: {NAME: "{{ctx.x}}"}` and `$NAME` in the script.
 * - http: no template in the URL's scheme, host, port or userinfo, except the values the server owns
 *   (`{{ctx.server.*}}`, which no run param can set) and `{{secret.NAME}}` (set by whoever runs the
 *   server); no run value in a Host header. In the path and query a value is percent-encoded.
 *
 * Checked when a DSL is drafted (UNSAFE_TEMPLATE) and again when a node runs, for versions drafted
 * before this rule.
 */

type RunnerKind = 'shell' | 'interpreter' | 'wrapper';

const SHELLS = ['sh', 'bash', 'zsh', 'dash', 'ksh', 'mksh', 'pdksh', 'ash', 'yash', 'csh', 'tcsh', 'fish', 'rc', 'es', 'nu', 'elvish', 'xonsh', 'busybox', 'cmd', 'command', 'powershell', 'pwsh'];
const INTERPRETERS = [
  'python', 'pypy', 'node', 'nodejs', 'deno', 'bun', 'perl', 'ruby', 'irb', 'php', 'lua', 'luajit', 'tclsh', 'wish', 'expect',
  'awk', 'gawk', 'mawk', 'nawk', 'sed', 'm4', 'osascript', 'rscript', 'julia', 'groovy', 'jshell', 'erl', 'escript', 'elixir', 'iex',
  'guile', 'racket', 'sbcl', 'ghci', 'runghc', 'runhaskell', 'swift', 'make', 'gmake', 'gdb',
];
const WRAPPERS = [
  'env', 'sudo', 'doas', 'su', 'runuser', 'pkexec', 'nice', 'ionice', 'nohup', 'timeout', 'stdbuf', 'setsid', 'setpriv', 'taskset', 'chrt',
  'chroot', 'unshare', 'nsenter', 'flock', 'time', 'xargs', 'parallel', 'watch', 'script', 'ssh', 'rsh', 'sshpass', 'exec', 'eval',
  'builtin', 'strace', 'ltrace', 'valgrind', 'firejail', 'bwrap', 'systemd-run', 'docker', 'podman', 'nerdctl', 'kubectl', 'npx', 'npm',
  'pnpm', 'yarn', 'uv', 'uvx', 'pipx', 'poetry', 'tmux', 'screen', 'wsl', 'start',
];

const RUNNERS: ReadonlyMap<string, RunnerKind> = new Map<string, RunnerKind>([
  ...SHELLS.map((n): [string, RunnerKind] => [n, 'shell']),
  ...INTERPRETERS.map((n): [string, RunnerKind] => [n, 'interpreter']),
  ...WRAPPERS.map((n): [string, RunnerKind] => [n, 'wrapper']),
]);

const WHY: Record<RunnerKind, string> = {
  shell: 'a shell runs its arguments as a script',
  interpreter: 'an interpreter runs its arguments as code (-c, -e, a script, a makefile variable)',
  wrapper: 'it runs its arguments as another command (some through a shell: ssh, su -c, watch, xargs, env -S)',
};

/** Environment variables that make a program (or its shell, loader, runtime) load or run code. */
const CODE_ENV = /^(PATH|ENV|BASH_ENV|IFS|CDPATH|PS4|PROMPT_COMMAND|SHELLOPTS|BASHOPTS|GLOBIGNORE|HOME|ZDOTDIR|EDITOR|VISUAL|PAGER|BROWSER|LESSOPEN|LESSCLOSE|GCONV_PATH|CLASSPATH|MAKEFLAGS|MFLAGS|SSH_ASKPASS)$|^(LD_|DYLD_|BASH_FUNC_|GIT_|PYTHON|PERL|RUBY|NODE_|JAVA_|_JAVA_|JDK_JAVA_|LUA_)/;

/** A program's name as the runner lists know it: `/usr/bin/python3.12` → `python`, `PowerShell.exe` → `powershell`. */
export function programName(program: string): string {
  const base = program.split(/[/\\]/).pop() ?? program;
  return base
    .toLowerCase()
    .replace(/\.(exe|cmd|bat|com|ps1)$/, '')
    .replace(/[-._]?\d+(\.\d+)*$/, '');
}

/** The kind of code runner a program is, or null for a plain program. */
export function codeRunner(program: string): RunnerKind | null {
  return RUNNERS.get(programName(program)) ?? null;
}

export interface UnsafeTemplate {
  /** Where in the node's params: `['argv', '2']`, `['url']`, `['env', 'PATH']`. */
  path: string[];
  template: string;
  message: string;
  hint: string;
}

/** The first `{{ctx.…}}` or `{{secret.…}}` of a text (a malformed template is INVALID_DSL's to report). */
function firstTemplate(text: string): string | null {
  for (const m of text.matchAll(TEMPLATE)) {
    const inner = (m[1] as string).trim();
    if (inner.startsWith('ctx.') || inner.startsWith('secret.')) return m[0];
  }
  return null;
}

/** An environment variable name for a template's value: `{{ctx.order.id}}` → `ID`, `{{secret.API_KEY}}` → `API_KEY`. */
function variableFor(template: string): string {
  const inner = template.slice(2, -2).trim();
  const last = inner.split('.').pop() ?? 'VALUE';
  const name = last.toUpperCase().replace(/[^A-Z0-9_]/g, '_');
  return /^[A-Z_]/.test(name) ? name : `V_${name}`;
}

function envHint(template: string): string {
  const v = variableFor(template);
  return (
    `Move the value into env and read it as a variable: env: {${v}: "${template}"}, then "$${v}" in a shell script ` +
    `(python: os.environ["${v}"], node: process.env.${v}). Or run a script file directly (its shebang names the interpreter) with the value as one whole argument.`
  );
}

/** The first unsafe template of a command node's params (raw or parsed), or null. */
export function unsafeCommandTemplate(params: Record<string, unknown>): UnsafeTemplate | null {
  const argv = Array.isArray(params.argv) ? (params.argv as unknown[]) : [];
  const program = typeof argv[0] === 'string' ? argv[0] : '';
  const inProgram = firstTemplate(program);
  if (inProgram !== null) {
    return {
      path: ['argv', '0'],
      template: inProgram,
      message: `argv.0, the program itself, holds the template ${inProgram}: a run's value would choose what runs.`,
      hint: `Name the program in the DSL; pass the value as an argument or in env.`,
    };
  }
  const runner = codeRunner(program);
  if (runner !== null) {
    for (let i = 1; i < argv.length; i += 1) {
      const arg = argv[i];
      const found = typeof arg === 'string' ? firstTemplate(arg) : null;
      if (found === null) continue;
      return {
        path: ['argv', String(i)],
        template: found,
        message: `argv.${i} of '${programName(program)}' holds the template ${found}: ${WHY[runner]}, so a run's value would become code.`,
        hint: envHint(found),
      };
    }
  }
  if (typeof params.cwd === 'string') {
    const found = firstTemplate(params.cwd);
    if (found !== null) {
      return {
        path: ['cwd'],
        template: found,
        message: `cwd holds the template ${found}: the working folder decides what a relative program or script path runs.`,
        hint: `Fix the working folder in the DSL; ${envHint(found)}`,
      };
    }
  }
  const env = typeof params.env === 'object' && params.env !== null ? (params.env as Record<string, unknown>) : {};
  for (const [name, value] of Object.entries(env)) {
    const found = typeof value === 'string' ? firstTemplate(value) : null;
    if (found !== null && CODE_ENV.test(name)) {
      return {
        path: ['env', name],
        template: found,
        message: `env.${name} holds the template ${found}: ${name} makes a program, its shell or its runtime load code.`,
        hint: `Give ${name} a fixed value in the DSL and pass the run's value under a name of its own (env: {${variableFor(found)}: "${found}"}).`,
      };
    }
  }
  return null;
}

/** A template the server owns the value of: `{{secret.NAME}}`, or `{{ctx.server…}}` (never a run param). */
function serverOwned(ref: TemplateRef): boolean {
  return ref.kind === 'secret' || ref.path === 'server' || ref.path.startsWith('server.');
}

/** The first unsafe template of an http node's params (raw or parsed), or null. */
export function unsafeHttpTemplate(params: Record<string, unknown>): UnsafeTemplate | null {
  const url = typeof params.url === 'string' ? params.url : '';
  const schemeEnd = url.indexOf('://');
  const scheme = schemeEnd < 0 ? url : url.slice(0, schemeEnd);
  const inScheme = firstTemplate(scheme);
  if (inScheme !== null) {
    return {
      path: ['url'],
      template: inScheme,
      message: `the URL's scheme holds the template ${inScheme}: a run's value would choose how and where the request goes.`,
      hint: 'Write the scheme and host in the DSL (http:// or https://); put run values in the path or the query, where they are percent-encoded.',
    };
  }
  const authority = url.slice(schemeEnd + 3, urlAuthorityEnd(url));
  for (const match of authority.matchAll(TEMPLATE)) {
    const { refs } = templateRefs(match[0]);
    const ref = refs[0];
    if (ref === undefined || serverOwned(ref)) continue;
    return {
      path: ['url'],
      template: match[0],
      message: `the URL's host, port or userinfo holds the template ${match[0]}: a run's value would choose where the request — and its headers and secrets — goes.`,
      hint: `Write the host in the DSL (a server's own address is {{ctx.server.host}}, a secret's {{secret.NAME}}); put run values in the path or the query, where they are percent-encoded.`,
    };
  }
  const headers = typeof params.headers === 'object' && params.headers !== null ? (params.headers as Record<string, unknown>) : {};
  for (const [name, value] of Object.entries(headers)) {
    if (name.toLowerCase() !== 'host' || typeof value !== 'string') continue;
    for (const match of value.matchAll(TEMPLATE)) {
      const ref = templateRefs(match[0]).refs[0];
      if (ref === undefined || serverOwned(ref)) continue;
      return {
        path: ['headers', name],
        template: match[0],
        message: `the Host header holds the template ${match[0]}: a run's value would choose which site of the server answers.`,
        hint: 'Write the Host header in the DSL, or leave it out (the URL names the host).',
      };
    }
  }
  return null;
}

/** The first unsafe template of a node, for the node types that hold templates. */
export function unsafeTemplate(type: string, params: Record<string, unknown>): UnsafeTemplate | null {
  if (type === 'command') return unsafeCommandTemplate(params);
  if (type === 'http') return unsafeHttpTemplate(params);
  return null;
}
