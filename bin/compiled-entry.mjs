// Shared by the bins: runs a compiled entry of out/node, or says how to build it.
import { existsSync } from 'node:fs';
import process from 'node:process';
import { URL, fileURLToPath } from 'node:url';

/** @param {string} name out/node/<name>.mjs */
export async function runCompiled(name) {
  const entry = new URL(`../out/node/${name}.mjs`, import.meta.url);
  if (!existsSync(entry)) {
    const root = fileURLToPath(new URL('..', import.meta.url));
    process.stderr.write(`error: Rewind is not built yet (${fileURLToPath(entry)} is missing).\n  hint: run \`npm run build:node\` (or \`npm run build\`) in ${root}.\n`);
    process.exit(2);
  }
  await import(entry.href);
}
