#!/usr/bin/env node
// The `rewind` command: runs the TypeScript CLI through tsx, so no build step stands between a checkout and a script.
import { register } from 'tsx/esm/api';

register();
await import('../main/cli/index.ts');
