#!/usr/bin/env node
// The `rewind-server` command: the compiled workflow server, one node process (see the README's Production section).
import { runCompiled } from './compiled-entry.mjs';

await runCompiled('server');
