import { readFile } from 'node:fs/promises';

/**
 * A settings file of the console, read for a schema to judge: `missing` when there is no file yet,
 * else its parsed JSON — `undefined` when it is not JSON, so the caller's schema refuses it in the
 * caller's own words (which file, what to do) rather than with a bare SyntaxError.
 */
export async function readJsonFile(file: string): Promise<{ missing: true } | { missing: false; value: unknown }> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { missing: true };
    throw err;
  }
  try {
    return { missing: false, value: JSON.parse(text) as unknown };
  } catch {
    return { missing: false, value: undefined };
  }
}
