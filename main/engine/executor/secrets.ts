/*
 * Secrets for real nodes: `{{secret.NAME}}` reads REWIND_SECRET_NAME from the environment of the
 * process running the engine (the server; the sandbox reads the same variables, after the secrets the
 * console keeps in the OS keychain for it). Values are read at use, so a rotated variable takes
 * effect without a restart of anything but the process itself.
 */

export const SECRET_PREFIX = 'REWIND_SECRET_';

/** The environment variable a secret name reads. */
export function secretVariable(name: string): string {
  return `${SECRET_PREFIX}${name}`;
}

export interface SecretSource {
  get(name: string): string | undefined;
  /** Every secret this source can give, as [name, value]: what redaction must hide. */
  all(): Array<[string, string]>;
}

/** Secrets from an environment (process.env by default). */
export function envSecrets(env: NodeJS.ProcessEnv = process.env): SecretSource {
  return {
    get: (name) => env[secretVariable(name)],
    all: () => {
      // Names first, values of the prefixed ones only: reading every value of process.env is a native call each, per node.
      const found: Array<[string, string]> = [];
      for (const key of Object.keys(env)) {
        if (!key.startsWith(SECRET_PREFIX)) continue;
        const value = env[key];
        if (typeof value === 'string' && value !== '') found.push([key.slice(SECRET_PREFIX.length), value]);
      }
      return found;
    },
  };
}

/** A fixed set of secrets (tests, and a console passing keychain values to its sandbox). */
export function staticSecrets(values: Record<string, string>): SecretSource {
  return {
    get: (name) => (Object.hasOwn(values, name) ? values[name] : undefined),
    all: () => Object.entries(values).filter(([, v]) => v !== ''),
  };
}

/**
 * Several sources as one: `get` answers from the first that has the name (a console's keychain
 * before the environment); `all` gives every source's secrets, so a shadowed value is redacted too.
 */
export function layeredSecrets(...sources: SecretSource[]): SecretSource {
  return {
    get: (name) => {
      for (const source of sources) {
        const value = source.get(name);
        if (value !== undefined) return value;
      }
      return undefined;
    },
    all: () => sources.flatMap((s) => s.all()),
  };
}
