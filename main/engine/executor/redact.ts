import type { SecretSource } from './secrets.js';

/*
 * Secret values never leave a real node: its output, its error and anything logged about it pass
 * through here before they reach the run context, a checkpoint, an event or an API answer.
 * Each secret is hidden in the forms it travels in: as is, JSON-escaped, percent-encoded, and as a
 * URL's path or query holds it once parsed (a service echoing its URL echoes that form).
 */

export interface Redactor {
  text(text: string): string;
  /** A deep copy of a JSON value with every string (keys too) redacted. */
  value<T>(value: T): T;
}

export function redactorFor(secrets: SecretSource): Redactor {
  const forms: Array<{ needle: string; mask: string }> = [];
  for (const [name, value] of secrets.all()) {
    const mask = `[secret:${name}]`;
    for (const needle of new Set([value, encodeURIComponent(value), JSON.stringify(value).slice(1, -1), ...urlForms(value)])) {
      if (needle !== '') forms.push({ needle, mask });
    }
  }
  // Longest first, so a secret that contains another is hidden whole.
  forms.sort((a, b) => b.needle.length - a.needle.length);
  const text = (input: string): string => {
    let out = input;
    for (const { needle, mask } of forms) if (out.includes(needle)) out = out.split(needle).join(mask);
    return out;
  };
  const value = <T>(input: T): T => {
    if (forms.length === 0) return input;
    return redactValue(input, text) as T;
  };
  return { text, value };
}

function redactValue(input: unknown, text: (s: string) => string): unknown {
  if (typeof input === 'string') return text(input);
  if (Array.isArray(input)) return input.map((v) => redactValue(v, text));
  if (typeof input === 'object' && input !== null) {
    return Object.fromEntries(Object.entries(input).map(([k, v]) => [text(k), redactValue(v, text)]));
  }
  return input;
}

/** The secret as a parsed URL keeps it in a path and in a query. */
function urlForms(value: string): string[] {
  try {
    return [new URL(`http://h/${value}`).pathname.slice(1), new URL(`http://h/?${value}`).search.slice(1)];
  } catch {
    return [];
  }
}
