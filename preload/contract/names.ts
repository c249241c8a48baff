import type { z } from 'zod';

/**
 * Control characters (C0, DEL, C1 — ESC among them) and bidirectional overrides: in a name they
 * would rewrite a terminal or reorder what an operator reads, so names refuse them.
 */
// eslint-disable-next-line no-control-regex
export const unsafeNameCharacters = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/;

/** The same for free text (descriptions, change logs, comments, runbook text), which may also hold newlines and tabs. */
// eslint-disable-next-line no-control-regex
export const unsafeTextCharacters = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/;

const message = 'names cannot hold control characters, escape sequences or bidirectional overrides (newline, tab, ESC, DEL, U+202E…)';

/** A name schema that also refuses control characters; the error names what is wrong. */
export function safeName<T extends z.ZodString>(schema: T): T {
  return schema.refine((value) => !unsafeNameCharacters.test(value), { message });
}

/** Where the first unsafe character of a text is, as `U+001B at character 5`. */
function firstUnsafe(value: unknown): string {
  const match = typeof value === 'string' ? unsafeTextCharacters.exec(value) : null;
  if (!match) return 'a control character';
  return `U+${match[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')} at character ${match.index + 1}`;
}

/**
 * A free-text schema that refuses control characters other than newline and tab (an ESC[2J would
 * clear the terminal of whoever reads it; a BEL rings it; U+202E reverses what follows).
 */
export function safeText<T extends z.ZodString>(schema: T): T {
  return schema.refine((value) => !unsafeTextCharacters.test(value), {
    error: (issue) => `text cannot hold control characters other than newline and tab, nor bidirectional overrides: found ${firstUnsafe(issue.input)}`,
  });
}
