import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Runbook, parseRunbook } from './format.js';

/** The sample runbooks shipped in `assets/runbooks/` (seed 003's four levels and its emergency procedure), by file name. */
export function loadSampleRunbooks(dir: string): Array<{ file: string; runbook: Runbook }> {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yaml') || f.endsWith('.yml'))
    .sort()
    .map((file) => ({ file, runbook: parseRunbook(readFileSync(join(dir, file), 'utf8'), 'yaml') }));
}
