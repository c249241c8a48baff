import type { z } from 'zod';

/**
 * Control characters (C0, DEL, C1 — ESC among them) and bidirectional overrides: in a name they
 * would rewrite a terminal or reorder what an operator reads, so names refuse them.
 */
// eslint-disable-next-line no-control-regex
export const unsafeNameCharacters = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/;

const message = 'names cannot hold control characters, escape sequences or bidirectional overrides (newline, tab, ESC, DEL, U+202E…)';

/** A name schema that also refuses control characters; the error names what is wrong. */
export function safeName<T extends z.ZodString>(schema: T): T {
  return schema.refine((value) => !unsafeNameCharacters.test(value), { message });
}
